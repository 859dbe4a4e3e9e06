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
    public async Task A_link_that_dropped_is_opened_again_by_itself()
    {
        await using var system = new SystemUnderTest();
        system.StartBoard("nucleo", 0);
        system.StartGateway();
        await LinkFaultTests.EventuallyAsync(async () => Device(await system.CliAsync("--json", "devices"), "nucleo").GetProperty("connected").GetBoolean());

        // The board goes away: the link drops; it comes back on the same port: the gateway reconnects unasked.
        var port = system.BoardPorts["nucleo"];
        await system.KillBoardAsync("nucleo");
        await LinkFaultTests.EventuallyAsync(async () => !Device(await system.CliAsync("--json", "devices"), "nucleo").GetProperty("connected").GetBoolean());
        system.StartBoard("nucleo", port);
        await LinkFaultTests.EventuallyAsync(async () => Device(await system.CliAsync("--json", "devices"), "nucleo").GetProperty("connected").GetBoolean());
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
