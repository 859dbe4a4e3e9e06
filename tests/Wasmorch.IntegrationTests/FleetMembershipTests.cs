using System.Text.Json;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Issue 31 (docs/fleet.md, docs/fleet-ops.md): one device's job history is that device's alone,
/// a selector gives every device it selects a line (those of a lost gateway fail the command), and
/// a gateway whose fleet join fails keeps none of the claims it took on the way.
/// </summary>
public sealed class FleetMembershipTests
{
    /// <summary>A gateway of fleet "lab" with one emulated board per entry of <paramref name="roles"/>, each labelled role=&lt;value&gt; in its device map.</summary>
    private static SystemUnderTest Member(NatsServer nats, string gateway, params (string Board, string Role)[] roles)
    {
        var system = new SystemUnderTest();
        var config = Path.Combine(Directory.CreateTempSubdirectory("wasmorch-issue31-").FullName, "wasmorch.toml");
        var map = new System.Text.StringBuilder();
        foreach (var (board, role) in roles)
        {
            system.StartBoard(board, 0);
            map.Append($"[devices.{board}]\nendpoint = \"tcp://127.0.0.1:{system.BoardPorts[board]}\"\nlabels = {{ role = \"{role}\" }}\n");
        }
        File.WriteAllText(config, map.ToString());
        system.GatewayArgs.AddRange(["--config", config, "--nats", nats.Url, "--name", gateway, "--fleet", "lab", "--fleet-insecure"]);
        system.StartGateway();
        return system;
    }

    private sealed record Job(string Device, long Id, string Status, string? Gateway);

    /// <summary>The jobs a <c>--json jobs</c> lists, in its order (newest first).</summary>
    private static async Task<List<Job>> JobsAsync(SystemUnderTest via, params string[] args)
    {
        var result = await via.CliAsync(["--json", "jobs", .. args]);
        CliAssert.Exit(0, result);
        using var json = JsonDocument.Parse(result.Stdout);
        return json.RootElement.TryGetProperty("jobs", out var jobs)
            ? [.. jobs.EnumerateArray().Select(j => new Job(j.GetProperty("device").GetString()!, j.GetProperty("job").GetInt64(),
                j.GetProperty("status").GetString()!, j.TryGetProperty("gateway", out var g) ? g.GetString() : null))]
            : [];
    }

    private static async Task RunJobsAsync(SystemUnderTest via, string device, int count)
    {
        CliAssert.Exit(0, await via.CliAsync("--device", device, "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c")));
        for (var i = 1; i <= count; i++)
        {
            CliAssert.Exit(0, await via.CliAsync("--device", device, "start", "--module-id", "math_ops", "--func-name", "mul", "--func-args", $"{i},7", "--wait-result"));
        }
    }

    [Fact]
    public async Task Jobs_of_one_device_are_that_devices_alone_and_the_limit_keeps_its_newest()
    {
        await using var nats = NatsServer.Start();
        await using var a = Member(nats, "gw-a", ("a1", "x"), ("a2", "x"));
        await using var b = Member(nats, "gw-b", ("b1", "x"));
        // a1 first: every other device's jobs are newer than a1's, so a list that lets them in pushes a1's out.
        await RunJobsAsync(a, "a1", 3);
        await RunJobsAsync(a, "a2", 3);
        await RunJobsAsync(b, "b1", 3);
        // Each gateway records its jobs in order: once the last end of each gateway is in the fleet's record, all of them are.
        await LinkFaultTests.EventuallyAsync(async () => (await JobsAsync(b, "--device", "a2")).Any(j => j is { Device: "a2", Id: 3, Status: "OK" }), TimeSpan.FromSeconds(10));
        await LinkFaultTests.EventuallyAsync(async () => (await JobsAsync(a, "--device", "b1")).Any(j => j is { Device: "b1", Id: 3, Status: "OK" }), TimeSpan.FromSeconds(10));

        // A device of this gateway, with a limit: its own two newest, nothing of any other device.
        Assert.Equal([new Job("a1", 3, "OK", "gw-a"), new Job("a1", 2, "OK", "gw-a")], await JobsAsync(a, "--device", "a1", "--limit", "2"));
        // A device of another gateway, from the fleet's record: its jobs only, though its gateway has another device.
        Assert.Equal([new Job("a1", 3, "OK", "gw-a"), new Job("a1", 2, "OK", "gw-a"), new Job("a1", 1, "OK", "gw-a")], await JobsAsync(b, "--device", "a1"));
        Assert.Equal([new Job("b1", 3, "OK", "gw-b"), new Job("b1", 2, "OK", "gw-b")], await JobsAsync(a, "--device", "b1", "--limit", "2"));
        // Without a device, the fleet's newest of all.
        Assert.Equal(["b1/3", "b1/2", "b1/1", "a2/3"], (await JobsAsync(a, "--limit", "4")).Select(j => $"{j.Device}/{j.Id}"));
        // Each answer came from the fleet's record, not from asking the gateways instead.
        Assert.DoesNotContain("cannot read the fleet's stream", a.Logs + b.Logs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gateway_whose_join_fails_on_a_claimed_device_releases_the_claims_it_took()
    {
        await using var nats = NatsServer.Start();
        await using var a = Member(nats, "gw-a", ("nucleo", "x"));
        await using var spare = new SystemUnderTest();
        spare.StartBoard("free1", 0);

        // free1 comes first in gw-c's map: it is claimed before nucleo, which gw-a owns, is refused.
        await using (var intruder = RunningProcess.StartCli("gateway", "--port", "0", "--state", "off", "--nats", nats.Url, "--name", "gw-c", "--fleet", "lab", "--fleet-insecure",
            "--add-device", $"free1=tcp://127.0.0.1:{spare.BoardPorts["free1"]}", "--add-device", $"nucleo=tcp://127.0.0.1:{a.BoardPorts["nucleo"]}"))
        {
            Assert.Equal(2, await intruder.WaitForExitAsync(TimeSpan.FromSeconds(20)));
            Assert.Contains("DEVICE_CLAIMED: device 'nucleo' belongs to gateway 'gw-a' of fleet 'lab'", intruder.Output, StringComparison.Ordinal);
        }

        // The fleet holds nucleo alone: no claim of gw-c's is left on free1.
        var devices = await a.CliAsync("--json", "devices");
        CliAssert.Exit(0, devices);
        using (var json = JsonDocument.Parse(devices.Stdout))
        {
            Assert.Equal(["nucleo"], json.RootElement.GetProperty("devices").EnumerateArray().Select(d => d.GetProperty("name").GetString()));
        }
        // So another gateway takes free1 at once, not a lease later.
        spare.GatewayArgs.AddRange(["--nats", nats.Url, "--name", "gw-d", "--fleet", "lab", "--fleet-insecure"]);
        spare.StartGateway();
        var status = await a.CliAsync("--json", "--device", "free1", "status");
        CliAssert.Exit(0, status);
        using var answer = JsonDocument.Parse(status.Stdout);
        Assert.Equal("gw-d", answer.RootElement.GetProperty("gateway").GetString());
    }

    /// <summary>The per-device objects and the summary a <c>--json --selector</c> command prints.</summary>
    private static (Dictionary<string, (bool Ok, string? Code, int Exit)> Devices, JsonElement Summary) FanOut(CliResult result)
    {
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        var devices = lines.SkipLast(1).ToDictionary(l => l.GetProperty("device").GetString()!, l => (l.GetProperty("ok").GetBoolean(),
            l.TryGetProperty("error", out var e) ? e.GetProperty("code").GetString() : null, l.GetProperty("exit_code").GetInt32()));
        return (devices, lines[^1]);
    }

    [Fact]
    public async Task A_selector_gives_each_device_of_a_lost_gateway_a_failing_line_its_labels_known_from_its_claim()
    {
        await using var nats = NatsServer.Start();
        await using var a = Member(nats, "gw-a", ("s0", "sensor"), ("act", "actuator"));
        await using var b = Member(nats, "gw-b", ("s1", "sensor"), ("s2", "sensor"));
        await b.KillGatewayAsync();

        // The fleet's list keeps gw-b's devices with the labels their (signed) claims carry.
        var listed = await a.CliAsync("--json", "devices");
        CliAssert.Exit(0, listed);
        using (var json = JsonDocument.Parse(listed.Stdout))
        {
            var s1 = json.RootElement.GetProperty("devices").EnumerateArray().Single(d => d.GetProperty("name").GetString() == "s1");
            Assert.True(s1.GetProperty("gateway_lost").GetBoolean());
            Assert.Equal(new Dictionary<string, string> { ["role"] = "sensor", ["gateway"] = "gw-b" },
                s1.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!));
        }

        // Through a gateway and through the fleet alone: every sensor has its line, the lost ones fail the command.
        foreach (var run in new Func<Task<CliResult>>[]
        {
            () => a.CliAsync("--json", "-l", "role=sensor", "status"),
            () => CliRunner.RunAsync($"{nats.Url}?fleet=lab", "--json", "-l", "role=sensor", "status"),
        })
        {
            var result = await run();
            CliAssert.Exit(4, result);
            var (devices, summary) = FanOut(result);
            Assert.Equal(["s0", "s1", "s2"], devices.Keys.Order(StringComparer.Ordinal));
            Assert.Equal((true, null, 0), devices["s0"]);
            Assert.Equal((false, "DEVICE_UNREACHABLE", 4), devices["s1"]);
            Assert.Equal((false, "DEVICE_UNREACHABLE", 4), devices["s2"]);
            Assert.Equal((3, 1, 2, 4), (summary.GetProperty("devices").GetInt32(), summary.GetProperty("ok").GetInt32(), summary.GetProperty("failed").GetInt32(), summary.GetProperty("exit_code").GetInt32()));
        }
    }
}
