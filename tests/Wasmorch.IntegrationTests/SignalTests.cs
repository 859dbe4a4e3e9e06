using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Issue 30, item 9: every server process stops in order within 5 s of SIGTERM or SIGINT, whatever
/// is enabled (a gateway with --http used to ignore both: Kestrel took the signals).
/// </summary>
public sealed class SignalTests
{
    public static TheoryData<string, string[]> ServingModes => new()
    {
        { "TERM", [] },
        { "TERM", ["--http", "127.0.0.1:0"] },
        { "INT", ["--http", "127.0.0.1:0"] },
        { "TERM", ["--http", "127.0.0.1:0", "--otlp", "http://127.0.0.1:9"] },
    };

    [Theory]
    [MemberData(nameof(ServingModes))]
    public async Task The_gateway_exits_cleanly_within_five_seconds_of_a_signal_whatever_is_enabled(string signal, string[] args)
    {
        await using var system = new SystemUnderTest();
        system.StartBoard("b1", 0);
        system.GatewayArgs.AddRange(args);
        system.StartGateway();
        CliAssert.Exit(0, await system.CliAsync("--device", "b1", "status"));
        await system.GatewayProcess.SignalAsync(signal);
        // An orderly stop is a success: listeners and links closed, "gateway stopped" said.
        Assert.Equal(0, await system.GatewayProcess.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        system.GatewayProcess.WaitForLine("^gateway stopped$", TimeSpan.FromSeconds(1));
    }

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task The_emulator_exits_cleanly_within_five_seconds_of_a_signal(string signal)
    {
        await using var emulator = RunningProcess.StartCli("emulate", "--board", "b1=0", "--link-key", "off");
        emulator.WaitForLine("^emulator ready$");
        await emulator.SignalAsync(signal);
        Assert.Equal(0, await emulator.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        emulator.WaitForLine("^emulator stopped$", TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task A_gateway_in_a_fleet_exits_cleanly_within_five_seconds_of_sigterm()
    {
        await using var nats = NatsServer.Start();
        await using var system = new SystemUnderTest();
        system.StartBoard("b1", 0);
        // The development flag: this test is about stopping, not about the fleet's keys (FleetZeroTrustTests).
        system.GatewayArgs.AddRange(["--nats", nats.Url, "--name", "gw-signal", "--fleet-insecure", "--http", "127.0.0.1:0"]);
        system.StartGateway();
        CliAssert.Exit(0, await system.CliAsync("--device", "b1", "status"));
        await system.GatewayProcess.SignalAsync("TERM");
        Assert.Equal(0, await system.GatewayProcess.WaitForExitAsync(TimeSpan.FromSeconds(5)));
        system.GatewayProcess.WaitForLine("^gateway stopped$", TimeSpan.FromSeconds(1));
    }
}
