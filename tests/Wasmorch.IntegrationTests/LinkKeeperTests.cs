using System.Text.Json;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Issue 31, bug 8: a gateway opens its links at start and keeps them (<c>[gateway] keep_links</c>),
/// so every device of the fleet is described (connected, board and runtime labels) before anyone
/// used it, and an emulated board's BOOT on the first link is news, not a "restarted" warning.
/// </summary>
public sealed class LinkKeeperTests
{
    private static JsonElement Device(CliResult devices, string name)
    {
        CliAssert.Exit(0, devices);
        return JsonDocument.Parse(devices.Stdout).RootElement.GetProperty("devices").EnumerateArray()
            .Single(d => d.GetProperty("name").GetString() == name).Clone();
    }

    private static bool Described(JsonElement device) =>
        device.GetProperty("connected").GetBoolean()
        && device.TryGetProperty("labels", out var labels) && labels.TryGetProperty("board", out _) && labels.TryGetProperty("runtime", out _);

    [Fact]
    public async Task Every_device_of_the_fleet_is_connected_and_labelled_before_anyone_used_it()
    {
        await using var nats = NatsServer.Start();
        await using var a = new SystemUnderTest();
        a.StartBoard("nucleo", 0);
        a.GatewayArgs.AddRange(["--nats", nats.Url, "--name", "gw-a", "--fleet", "lab", "--fleet-insecure"]);
        a.StartGateway();
        await using var b = new SystemUnderTest();
        b.GatewayArgs.AddRange(["--nats", nats.Url, "--name", "gw-b", "--fleet", "lab", "--fleet-insecure"]);
        b.StartGateway();

        // Only `devices` is asked, of the other gateway: no command ever went to the board.
        JsonElement nucleo = default;
        await LinkFaultTests.EventuallyAsync(async () => Described(nucleo = Device(await b.CliAsync("--json", "devices"), "nucleo")));
        Assert.Equal("gw-a", nucleo.GetProperty("gateway").GetString());

        // The board's BOOT on gw-a's first link is said as such, never as a restart.
        Assert.Contains("Device nucleo: nucleo started before this gateway's first link to it", a.GatewayOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("restarted", a.GatewayOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_board_that_is_off_at_start_is_connected_when_it_comes_up()
    {
        var port = TcpPorts.Unused();
        await using var system = new SystemUnderTest();
        system.AddDevice("late", $"tcp://127.0.0.1:{port}");
        system.StartGateway();
        Assert.False(Device(await system.CliAsync("--json", "devices"), "late").GetProperty("connected").GetBoolean());
        system.StartBoard("late", port);
        await LinkFaultTests.EventuallyAsync(async () => Described(Device(await system.CliAsync("--json", "devices"), "late")), TimeSpan.FromSeconds(40));
    }

    /// <summary>Another peer took the board (a conformance run): the gateway does not take it back unasked, only on its next request.</summary>
    [Fact]
    public async Task A_link_another_peer_took_over_is_left_to_it_until_the_next_request()
    {
        await using var system = new SystemUnderTest();
        system.StartBoard("nucleo", 0);
        system.StartGateway();
        await LinkFaultTests.EventuallyAsync(async () => Device(await system.CliAsync("--json", "devices"), "nucleo").GetProperty("connected").GetBoolean());

        var conformance = await CliRunner.RunAsync("127.0.0.1:1", "conformance", $"tcp://127.0.0.1:{system.BoardPorts["nucleo"]}");
        CliAssert.Exit(0, conformance);
        Assert.False(Device(await system.CliAsync("--json", "devices"), "nucleo").GetProperty("connected").GetBoolean());
        CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "status"));
        Assert.True(Device(await system.CliAsync("--json", "devices"), "nucleo").GetProperty("connected").GetBoolean());
    }

    [Fact]
    public async Task With_keep_links_off_a_link_opens_on_first_use_only()
    {
        var config = Path.Combine(Path.GetTempPath(), $"wasmorch-links-{Guid.NewGuid():n}.toml");
        await File.WriteAllTextAsync(config, "[gateway]\nkeep_links = false\n");
        await using var system = new SystemUnderTest();
        system.StartBoard("nucleo", 0);
        system.GatewayArgs.AddRange(["--config", config]);
        system.StartGateway();
        Assert.False(Device(await system.CliAsync("--json", "devices"), "nucleo").GetProperty("connected").GetBoolean());
        CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "status"));
        Assert.True(Device(await system.CliAsync("--json", "devices"), "nucleo").GetProperty("connected").GetBoolean());
        File.Delete(config);
    }
}
