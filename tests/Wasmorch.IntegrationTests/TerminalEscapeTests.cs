using NATS.Client.Core;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Issue 30 item 15: a log record on the fleet's bus reaches the terminal of whoever runs
/// `wasmorch logs` on any gateway. Anyone on the bus can publish one; an escape sequence in it
/// must not retitle the window, clear the screen or forge a second line: the CLI shows every
/// control character (ESC as \x1b, a newline as \x0a), and --json stays the exact text (JSON
/// escapes it already).
/// </summary>
public sealed class TerminalEscapeTests
{
    /// <summary>ESC ]0; retitles the window (BEL ends it), ESC [2J clears the screen, CR and LF forge a line of another device.</summary>
    private const string Hostile = "before\u001b]0;owned\u0007\u001b[2J\r\nnucleo counter job=9: forged\u009b31m";

    [Fact]
    public async Task Logs_show_the_control_characters_of_a_fleet_record_instead_of_sending_them_to_the_terminal()
    {
        await using var nats = NatsServer.Start();
        await using var system = new SystemUnderTest();
        system.StartBoard("nucleo", 0);
        system.GatewayArgs.AddRange(["--nats", nats.Url, "--name", "gw-a", "--fleet", "lab", "--fleet-insecure"]);
        system.StartGateway();
        // The record must reach the fleet's log stream, which the gateway creates as it joins:
        // publishing earlier goes to nobody.
        await LinkFaultTests.EventuallyAsync(() => Task.FromResult(system.GatewayOutput.Contains("joined fleet lab", StringComparison.Ordinal)), TimeSpan.FromSeconds(20));

        // A member of the bus that is no gateway of ours publishes a log record where gateways do.
        await using (var bus = new NatsConnection(new NatsOpts { Url = nats.Url }))
        {
            var record = HostJson.Serialize(new HostResponse
            {
                Ok = true, Event = "log", Device = "evil",
                Log = new LogEntry { Time = "2026-12-07T22:00:00Z", Device = "evil", ModuleId = "m", Job = 1, Message = Hostile, Gateway = "gw-evil" },
            });
            await bus.PublishAsync("wasmorch.lab.logs.gw-evil", record);
        }

        CliResult? logs = null;
        await LinkFaultTests.EventuallyAsync(async () => (logs = await system.CliAsync("logs")).Stdout.Contains("evil m job=1", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
        CliAssert.Exit(0, logs!);
        Assert.Contains(@"2026-12-07T22:00:00Z evil m job=1: before\x1b]0;owned\x07\x1b[2J\x0d\x0anucleo counter job=9: forged\u009b31m" + "\n", logs!.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Stdout.Split('\n'), l => l.StartsWith("nucleo counter job=9", StringComparison.Ordinal));
        Assert.False(logs.Stdout.Any(c => c is '\u001b' or '\u0007' or '\r' or '\u009b'), logs.Stdout);

        var json = await system.CliAsync("--json", "logs");
        var entry = System.Text.Json.JsonDocument.Parse(json.Stdout.Split('\n')[0]).RootElement.GetProperty("logs").EnumerateArray()
            .Single(e => e.GetProperty("device").GetString() == "evil");
        Assert.Equal(Hostile, entry.GetProperty("message").GetString());
    }
}
