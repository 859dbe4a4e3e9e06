using System.Text.Json;
using System.Text.RegularExpressions;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Gateways joined in one fleet over a real nats-server (docs/fleet.md): any gateway serves any
/// device of the fleet, and device names are unique in it.
/// </summary>
public sealed class FleetTests
{
    private static SystemUnderTest Member(NatsServer nats, string gateway, string board) => Member(nats.Url, gateway, board);

    private static SystemUnderTest Member(string natsUrl, string gateway, string board, string? cacheDir = null, int replicas = 1)
    {
        var system = new SystemUnderTest();
        system.StartBoard(board, 0);
        system.GatewayArgs.AddRange(["--nats", natsUrl, "--name", gateway, "--fleet", "lab", "--fleet-insecure"]);
        if (cacheDir is not null)
        {
            var config = Path.Combine(cacheDir, "wasmorch.toml");
            File.WriteAllText(config, $"[build]\ncache_dir = \"{cacheDir}\"\n[fleet]\nreplicas = {replicas}\ninsecure_dev = true\n");
            system.GatewayArgs.AddRange(["--config", config]);
        }
        system.StartGateway();
        return system;
    }

    [Fact]
    public async Task Any_gateway_serves_a_device_of_another_with_the_same_answers()
    {
        await using var nats = NatsServer.Start();
        await using var a = Member(nats, "gw-a", "nucleo");
        await using var b = Member(nats, "gw-b", "disco");

        // Through gw-a, a board on gw-b: deploy (compiled there), start, wait for the result.
        var deploy = await a.CliAsync("--device", "disco", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c"));
        CliAssert.Exit(0, deploy);
        Assert.Contains("gateway=gw-b", deploy.Stdout, StringComparison.Ordinal);
        var add = await a.CliAsync("--json", "--device", "disco", "start", "--module-id", "math_ops", "--func-name", "add", "--func-args", "a=10,b=15", "--wait-result");
        CliAssert.Exit(0, add);
        using (var json = JsonDocument.Parse(add.Stdout))
        {
            Assert.Equal(25, json.RootElement.GetProperty("value").GetInt32());
            Assert.Equal("gw-b", json.RootElement.GetProperty("gateway").GetString());
            Assert.Equal("disco", json.RootElement.GetProperty("device").GetString());
            Assert.True(json.RootElement.GetProperty("timing").GetProperty("device_ms").GetDouble() >= 0);
        }

        // A refusal keeps its code and exit code across the hop.
        var missing = await a.CliAsync("--device", "disco", "start", "--module-id", "nothing_here", "--func-name", "f", "--wait-result");
        CliAssert.Exit(7, missing);
        Assert.Contains("NO_MODULE", missing.Stderr, StringComparison.Ordinal);

        // Each gateway lists the whole fleet, every device with its gateway.
        var devices = await b.CliAsync("--json", "devices");
        CliAssert.Exit(0, devices);
        using (var json = JsonDocument.Parse(devices.Stdout))
        {
            var byName = json.RootElement.GetProperty("devices").EnumerateArray().ToDictionary(d => d.GetProperty("name").GetString()!, d => d.GetProperty("gateway").GetString());
            Assert.Equal(new Dictionary<string, string?> { ["disco"] = "gw-b", ["nucleo"] = "gw-a" }, byName);
        }

        // An unknown device is still unknown: the fleet does not invent owners.
        CliAssert.Exit(4, await a.CliAsync("--device", "nowhere", "status"));

        // The job history of the whole fleet, from either gateway: gw-b ran it, gw-a lists it.
        CliAssert.Exit(0, await a.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c")));
        CliAssert.Exit(0, await a.CliAsync("--device", "nucleo", "start", "--module-id", "math_ops", "--func-name", "mul", "--func-args", "6,7", "--wait-result"));
        var jobs = await a.CliAsync("jobs");
        CliAssert.Exit(0, jobs);
        Assert.Matches(@"disco\s+job=1\s+math_ops\.add\(a=10,b=15\) OK value=25", jobs.Stdout);
        Assert.Matches(@"nucleo\s+job=1\s+math_ops\.mul\(6,7\) OK value=42", jobs.Stdout);
    }

    [Fact]
    public async Task The_cli_reaches_the_fleet_with_no_gateway_of_its_own()
    {
        await using var nats = NatsServer.Start();
        await using var a = Member(nats, "gw-a", "nucleo");
        await using var b = Member(nats, "gw-b", "disco");
        var fleet = $"{nats.Url}?fleet=lab";

        CliAssert.Exit(0, await CliRunner.RunAsync(fleet, "--device", "disco", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c")));
        var add = await CliRunner.RunAsync(fleet, "--device", "disco", "start", "--module-id", "math_ops", "--func-name", "add", "--func-args", "a=10,b=15", "--wait-result");
        CliAssert.Exit(0, add);
        Assert.Contains("value=25", add.Stdout, StringComparison.Ordinal);
        Assert.Contains("gateway=gw-b", add.Stdout, StringComparison.Ordinal);
        // Both boards are connected, nucleo although nobody used it: its gateway keeps its link open.
        CliResult devices = null!;
        await LinkFaultTests.EventuallyAsync(async () => Regex.IsMatch((devices = await CliRunner.RunAsync(fleet, "devices")).Stdout, @"nucleo\s+tcp://127\.0\.0\.1:\d+\s+connected  gateway=gw-a"));
        CliAssert.Exit(0, devices);
        Assert.Matches(@"disco\s+tcp://127\.0\.0\.1:\d+\s+connected  gateway=gw-b", devices.Stdout);
        // In a fleet the gateway is a label: a selector through the fleet reaches its boards.
        var onB = await CliRunner.RunAsync(fleet, "--selector", "gateway=gw-b", "start", "--module-id", "math_ops", "--func-name", "mul", "--func-args", "6,7", "--wait-result");
        CliAssert.Exit(0, onB);
        Assert.Matches(@"(?m)^disco: math_ops\.mul job=2 status=OK value=42", onB.Stdout);
        Assert.Contains("start on 'gateway=gw-b': 1 device(s), 1 ok, 0 failed", onB.Stdout, StringComparison.Ordinal);

        var unknown = await CliRunner.RunAsync(fleet, "--device", "nowhere", "status");
        CliAssert.Exit(4, unknown);
        Assert.Contains("UNKNOWN_DEVICE: no gateway of fleet 'lab' owns a device 'nowhere'", unknown.Stderr, StringComparison.Ordinal);
        var misspelt = await CliRunner.RunAsync($"{nats.Url}?flet=lab", "--device", "disco", "status");
        CliAssert.Exit(2, misspelt);
        Assert.Contains("unknown parameter 'flet=lab' (only fleet=<name> and keys=<operator.toml>)", misspelt.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_module_compiled_by_one_gateway_is_fetched_not_compiled_by_another()
    {
        await using var nats = NatsServer.Start();
        var cacheA = Directory.CreateTempSubdirectory("wasmorch-fleet-cache-a-").FullName;
        var cacheB = Directory.CreateTempSubdirectory("wasmorch-fleet-cache-b-").FullName;
        await using var a = Member(nats.Url, "gw-a", "nucleo", cacheA);
        await using var b = Member(nats.Url, "gw-b", "disco", cacheB);
        // A source no other test builds: neither cache can hold it already.
        var source = Path.Combine(cacheA, "unique.c");
        await File.WriteAllTextAsync(source, $"#include \"wasmorch.h\"\nWASMORCH_EXPORT(\"id\") int32_t id(void) {{ return {Random.Shared.Next(1, 1_000_000)}; }}\n");

        var first = await a.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "unique", "--source", source);
        CliAssert.Exit(0, first);
        Assert.DoesNotContain("cache hit", first.Stdout, StringComparison.Ordinal);
        var second = await b.CliAsync("--device", "disco", "build-and-deploy", "--module-id", "unique", "--source", source);
        CliAssert.Exit(0, second);
        Assert.Contains("(cache hit: nothing compiled)", second.Stdout, StringComparison.Ordinal);
        Assert.Contains("fetched from the fleet, not compiled", b.Logs, StringComparison.Ordinal);
        var crc = System.Text.RegularExpressions.Regex.Match(first.Stdout, "crc32=([0-9a-f]{8})").Groups[1].Value;
        Assert.Contains($"crc32={crc}", second.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// Runs <paramref name="job"/> until <paramref name="follower"/> prints a line matching
    /// <paramref name="pattern"/>: a follower subscribes to the fleet a moment after it starts, and
    /// what came before is not replayed. Fails after ten jobs.
    /// </summary>
    private static async Task RunUntilFollowedAsync(RunningProcess follower, string pattern, Func<Task<CliResult>> job)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            CliAssert.Exit(0, await job());
            try
            {
                follower.WaitForLine(pattern, TimeSpan.FromSeconds(2));
                return;
            }
            catch (TimeoutException)
            {
                // Not subscribed yet: the next job's lines will be.
            }
        }
        Assert.Fail($"nothing matching '{pattern}' reached the follower after ten jobs:\n{follower.Output}");
    }

    [Fact]
    public async Task Logs_followed_on_one_gateway_show_the_modules_of_the_whole_fleet()
    {
        await using var nats = NatsServer.Start();
        await using var a = Member(nats, "gw-a", "nucleo");
        await using var b = Member(nats, "gw-b", "disco");
        await using var follower = RunningProcess.StartCli("--gateway", a.Gateway, "logs", "--follow");
        CliAssert.Exit(0, await b.CliAsync("--device", "disco", "build-and-deploy", "--module-id", "counter", "--source", RepoPaths.Module("counter.c")));
        // The follower subscribes to the fleet a moment after it starts: jobs run until one of
        // gw-b's lines reaches it through gw-a (lines from before the subscription are not replayed).
        await RunUntilFollowedAsync(follower, @"disco counter job=\d+: done",
            () => b.CliAsync("--device", "disco", "start", "--module-id", "counter", "--func-name", "count", "--func-args", "2,5", "--wait-result"));
        CliAssert.Exit(0, await a.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "counter", "--source", RepoPaths.Module("counter.c")));
        CliAssert.Exit(0, await a.CliAsync("--device", "nucleo", "start", "--module-id", "counter", "--func-name", "count", "--func-args", "2,5", "--wait-result"));
        follower.WaitForLine(@"nucleo counter job=1: done");
    }

    [Fact]
    public async Task Events_followed_on_one_gateway_show_what_modules_publish_on_the_whole_fleet()
    {
        await using var nats = NatsServer.Start();
        await using var a = Member(nats, "gw-a", "nucleo");
        await using var b = Member(nats, "gw-b", "disco");
        await using var follower = RunningProcess.StartCli("--gateway", a.Gateway, "events", "--follow", "--topic", "temp");
        CliAssert.Exit(0, await b.CliAsync("--device", "disco", "build-and-deploy", "--module-id", "thermostat", "--source", RepoPaths.Module("thermostat.c")));
        // As for logs: events from before the follower's fleet subscription are not replayed.
        await RunUntilFollowedAsync(follower, @" disco thermostat job=\d+ uptime_ms=\d+ temp: 22500$",
            () => b.CliAsync("--device", "disco", "start", "--module-id", "thermostat", "--func-name", "run", "--func-args", "10,2", "--wait-result"));
        CliAssert.Exit(0, await a.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "thermostat", "--source", RepoPaths.Module("thermostat.c")));
        CliAssert.Exit(0, await a.CliAsync("--device", "nucleo", "start", "--module-id", "thermostat", "--func-name", "run", "--func-args", "10,1", "--wait-result"));
        follower.WaitForLine(@" nucleo thermostat job=1 uptime_ms=\d+ temp: 22500$");
    }

    [Fact]
    public async Task Recent_logs_are_the_fleets_and_outlive_the_gateway_that_sent_them()
    {
        await using var nats = NatsServer.Start();
        await using var a = Member(nats, "gw-a", "nucleo");
        await using var b = Member(nats, "gw-b", "disco");
        CliAssert.Exit(0, await b.CliAsync("--device", "disco", "build-and-deploy", "--module-id", "counter", "--source", RepoPaths.Module("counter.c")));
        CliAssert.Exit(0, await b.CliAsync("--device", "disco", "start", "--module-id", "counter", "--func-name", "count", "--func-args", "2,5", "--wait-result"));

        // gw-b publishes as the lines come: wait until the fleet holds them, then lose gw-b.
        CliResult? logs = null;
        await LinkFaultTests.EventuallyAsync(async () => (logs = await a.CliAsync("logs")).Stdout.Contains("disco counter job=1: done", StringComparison.Ordinal), TimeSpan.FromSeconds(5));
        Assert.Contains("disco counter job=1: done", logs!.Stdout, StringComparison.Ordinal);
        await b.KillGatewayAsync();
        var after = await a.CliAsync("logs");
        CliAssert.Exit(0, after);
        Assert.Matches(@"(?s)disco counter job=1: 1.*disco counter job=1: 2.*disco counter job=1: done", after.Stdout);
    }

    [Fact]
    public async Task The_job_history_is_the_fleets_and_outlives_the_gateway_that_ran_the_jobs()
    {
        await using var nats = NatsServer.Start();
        await using var a = Member(nats, "gw-a", "nucleo");
        await using var b = Member(nats, "gw-b", "disco.lab");
        CliAssert.Exit(0, await b.CliAsync("--device", "disco.lab", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c")));
        CliAssert.Exit(0, await b.CliAsync("--device", "disco.lab", "start", "--module-id", "math_ops", "--func-name", "add", "--func-args", "a=10,b=15", "--wait-result"));
        CliAssert.Exit(0, await a.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c")));
        CliAssert.Exit(0, await a.CliAsync("--device", "nucleo", "start", "--module-id", "math_ops", "--func-name", "mul", "--func-args", "6,7", "--wait-result"));

        // gw-b records its job in the fleet as it ends: wait until the fleet holds the end, then lose gw-b.
        await LinkFaultTests.EventuallyAsync(async () => (await a.CliAsync("jobs")).Stdout.Contains("add(a=10,b=15) OK", StringComparison.Ordinal), TimeSpan.FromSeconds(5));
        await b.KillGatewayAsync();

        var jobs = await a.CliAsync("jobs");
        CliAssert.Exit(0, jobs);
        Assert.Matches(@"disco\.lab\s+job=1\s+math_ops\.add\(a=10,b=15\) OK value=25 elapsed_us=\d+ gateway=gw-b", jobs.Stdout);
        Assert.Matches(@"nucleo\s+job=1\s+math_ops\.mul\(6,7\) OK value=42 elapsed_us=\d+ gateway=gw-a", jobs.Stdout);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(jobs.Stdout, " job="));

        // One device's history, of a device whose gateway is gone: the fleet's record answers.
        var disco = await a.CliAsync("--json", "--device", "disco.lab", "jobs");
        CliAssert.Exit(0, disco);
        using var json = JsonDocument.Parse(disco.Stdout);
        var only = Assert.Single(json.RootElement.GetProperty("jobs").EnumerateArray());
        Assert.Equal("disco.lab", only.GetProperty("device").GetString());
        Assert.Equal("OK", only.GetProperty("status").GetString());
        Assert.Equal("gw-b", only.GetProperty("gateway").GetString());
    }

    [Fact]
    public async Task Upload_progress_of_a_deploy_comes_back_across_the_hop()
    {
        await using var nats = NatsServer.Start();
        await using var a = Member(nats, "gw-a", "nucleo");
        await using var b = Member(nats, "gw-b", "disco");
        using var tcp = await a.ConnectHostAsync();
        var stream = tcp.GetStream();
        var deploy = new Wasmorch.Protocol.HostApi.HostRequest
        {
            Id = 7, Op = Wasmorch.Protocol.HostApi.HostOps.BuildAndDeploy, Device = "disco", ModuleId = "math_ops", SourceName = "math_ops.c", Progress = true,
            Source = await File.ReadAllTextAsync(RepoPaths.Module("math_ops.c")),
        };
        await stream.WriteAsync((byte[])[.. Wasmorch.Protocol.HostApi.HostJson.Serialize(deploy), (byte)'\n']);

        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8);
        var progress = new List<JsonElement>();
        JsonElement answer;
        while (true)
        {
            var root = JsonDocument.Parse(await reader.ReadLineAsync() ?? throw new EndOfStreamException()).RootElement;
            Assert.Equal(7, root.GetProperty("id").GetInt64());
            if (!root.TryGetProperty("event", out var kind))
            {
                answer = root;
                break;
            }
            Assert.Equal("progress", kind.GetString());
            progress.Add(root);
        }
        Assert.True(answer.GetProperty("ok").GetBoolean());
        Assert.Equal("gw-b", answer.GetProperty("gateway").GetString());
        Assert.NotEmpty(progress);
        Assert.All(progress, p => Assert.Equal("gw-b", p.GetProperty("gateway").GetString()));
        var last = progress[^1].GetProperty("progress");
        Assert.Equal(answer.GetProperty("size").GetInt64(), last.GetProperty("total").GetInt64());
        Assert.Equal(last.GetProperty("total").GetInt64(), last.GetProperty("sent").GetInt64());
    }

    [Fact]
    public async Task A_gateway_lost_in_the_middle_of_a_request_is_said_once_it_falls_silent_not_at_the_deadline()
    {
        await using var nats = NatsServer.Start();
        await using var a = Member(nats, "gw-a", "nucleo");
        await using var b = Member(nats, "gw-b", "disco");
        CliAssert.Exit(0, await a.CliAsync("--device", "disco", "build-and-deploy", "--module-id", "toggle_forever", "--source", RepoPaths.Module("toggle_forever.c")));
        await using var waiter = RunningProcess.StartCli("--gateway", a.Gateway, "--device", "disco", "start", "--module-id", "toggle_forever", "--func-name", "run", "--wait-result");
        // Long enough for gw-b to have said "still at work" more than once: it is the silence that ends the wait.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.False(waiter.HasExited);
        await b.KillGatewayAsync();

        Assert.Equal(4, await waiter.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("DEVICE_UNREACHABLE: gateway 'gw-b' fell silent for 10 s in the middle of start on 'disco'", waiter.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// [fleet] silence_limit_ms is honoured by a gateway process (issue 31: the knob was a static no
    /// process could set): with 2 s, a request to a gateway killed mid-job ends within a few
    /// seconds of the kill, well before the default 10 s.
    /// </summary>
    [Fact]
    public async Task A_short_silence_limit_from_the_config_ends_a_request_to_a_killed_gateway_within_it()
    {
        await using var nats = NatsServer.Start();
        var dir = Directory.CreateTempSubdirectory("wasmorch-silence-").FullName;
        var config = Path.Combine(dir, "gw-a.toml");
        await File.WriteAllTextAsync(config, "[fleet]\ninsecure_dev = true\nsilence_limit_ms = 2000\n");
        await using var a = new SystemUnderTest();
        a.StartBoard("nucleo", 0);
        a.GatewayArgs.AddRange(["--config", config, "--nats", nats.Url, "--name", "gw-a", "--fleet", "lab", "--fleet-insecure"]);
        a.StartGateway();
        await using var b = Member(nats, "gw-b", "disco");
        CliAssert.Exit(0, await a.CliAsync("--device", "disco", "build-and-deploy", "--module-id", "toggle_forever", "--source", RepoPaths.Module("toggle_forever.c")));
        await using var waiter = RunningProcess.StartCli("--gateway", a.Gateway, "--json", "--device", "disco", "start", "--module-id", "toggle_forever", "--func-name", "run", "--wait-result");

        // Killed once gw-b has the job running: the request is then in the middle, waiting on gw-b.
        await LinkFaultTests.EventuallyAsync(async () =>
        {
            var jobs = await b.CliAsync("--json", "--device", "disco", "jobs");
            using var json = JsonDocument.Parse(jobs.Stdout);
            return json.RootElement.TryGetProperty("jobs", out var list) && list.EnumerateArray().Any(j => j.GetProperty("status").GetString() == "RUNNING");
        });
        Assert.False(waiter.HasExited);
        await b.KillGatewayAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        Assert.Equal(4, await waiter.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"the request ended {clock.Elapsed.TotalSeconds:0.0} s after the kill, not within the 2 s silence limit");
        var stdout = string.Join('\n', waiter.Output.Split('\n').Where(l => !l.StartsWith("[err] ", StringComparison.Ordinal)));
        using var answer = JsonDocument.Parse(stdout);
        var error = answer.RootElement.GetProperty("error");
        Assert.Equal("DEVICE_UNREACHABLE", error.GetProperty("code").GetString());
        Assert.StartsWith("gateway 'gw-b' fell silent for 2 s in the middle of start on 'disco'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Killing_one_node_of_a_3_node_cluster_in_the_middle_of_deploys_loses_nothing_acknowledged()
    {
        var nodes = await NatsServer.StartClusterAsync(3);
        var work = Directory.CreateTempSubdirectory("wasmorch-cluster-").FullName;
        try
        {
            string Dir(string name) => Directory.CreateDirectory(Path.Combine(work, name)).FullName;
            // gw-b talks to node-1 only (it learns the others from it): node-1 is the one that dies.
            // gw-a is given two servers, as an operator would list a cluster.
            await using var a = Member($"{nodes[0].Url},{nodes[2].Url}", "gw-a", "nucleo", Dir("cache-a"), replicas: 3);
            await using var b = Member(nodes[1].Url, "gw-b", "disco", Dir("cache-b"), replicas: 3);
            await using var c = Member(nodes[2].Url, "gw-c", "nrf", Dir("cache-c"), replicas: 3);
            // A claim is read from any replica, which may lag a moment behind the one that took it.
            await LinkFaultTests.EventuallyAsync(async () => (await a.CliAsync("devices")).Stdout.Contains("gateway=gw-c", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
            string Source(int version)
            {
                var path = Path.Combine(Dir($"v{version}"), "version.c");
                File.WriteAllText(path, $"#include \"wasmorch.h\"\nWASMORCH_EXPORT(\"version\") int32_t version(void) {{ return {version}; }}\n");
                return path;
            }
            string[] Deploy(int version) => ["--device", "disco", "build-and-deploy", "--module-id", "v", "--source", Source(version)];
            async Task DeployAndRunAsync(int version)
            {
                CliAssert.Exit(0, await a.CliAsync(Deploy(version)));
                var run = await a.CliAsync("--device", "disco", "start", "--module-id", "v", "--func-name", "version", "--wait-result");
                CliAssert.Exit(0, run);
                Assert.Contains($"value={version} ", run.Stdout, StringComparison.Ordinal);
            }

            // Before: three versions built on gw-b (through gw-a), deployed, run.
            int[] before = [1, 2, 3];
            foreach (var version in before)
            {
                await DeployAndRunAsync(version);
            }

            // During: node-1 killed while gw-b compiles and uploads version 4. Its outcome may go
            // either way; a failure must say so, naming gw-b.
            await using (var deploying = RunningProcess.StartCli(["--gateway", a.Gateway, .. Deploy(4)]))
            {
                await Task.Delay(150);
                await nodes[1].KillAsync();
                if (await deploying.WaitForExitAsync(TimeSpan.FromSeconds(60)) != 0)
                {
                    Assert.Contains("gw-b", deploying.Output, StringComparison.Ordinal);
                }
            }

            // After: gw-b is back through another node, and once the cluster has elected new
            // leaders, every deploy is acknowledged again.
            await LinkFaultTests.EventuallyAsync(async () => (await a.CliAsync("--device", "disco", "status")).ExitCode == 0, TimeSpan.FromSeconds(30));
            await nodes[0].WaitHealthyAsync(TimeSpan.FromSeconds(60));
            await nodes[2].WaitHealthyAsync(TimeSpan.FromSeconds(60));
            int[] after = [5, 6, 7];
            foreach (var version in after)
            {
                await DeployAndRunAsync(version);
            }

            // node-1 comes back and catches up. (While a node of a 2.9 cluster is down, JetStream
            // may leave a new consumer unanswered: reading the record then falls back, docs/fleet.md.)
            await nodes[1].RestartAsync();
            foreach (var node in nodes)
            {
                await node.WaitHealthyAsync(TimeSpan.FromSeconds(60));
            }

            // Nothing acknowledged is lost. The claims: every device with its gateway.
            // Every gateway keeps its links open: each board is connected whether used or not.
            CliResult devices = null!;
            await LinkFaultTests.EventuallyAsync(async () => (devices = await a.CliAsync("devices")).Stdout.Split('\n').Count(l => l.Contains("  connected  gateway=", StringComparison.Ordinal)) == 3);
            CliAssert.Exit(0, devices);
            Assert.Matches(@"disco\s+\S+\s+connected  gateway=gw-b", devices.Stdout);
            Assert.Matches(@"nucleo\s+tcp://\S+\s+connected  gateway=gw-a", devices.Stdout);
            Assert.Matches(@"nrf\s+\S+\s+connected  gateway=gw-c", devices.Stdout);
            // The job records: every run acknowledged, from the fleet's record (written as each job ends).
            async Task<List<int>> RecordedResultsAsync()
            {
                var jobs = await a.CliAsync("--json", "--device", "disco", "jobs", "--limit", "100");
                CliAssert.Exit(0, jobs);
                using var json = JsonDocument.Parse(jobs.Stdout);
                return [.. json.RootElement.GetProperty("jobs").EnumerateArray().Where(j => j.GetProperty("status").GetString() == "OK")
                    .Select(j => int.Parse(j.GetProperty("value").GetString()!, System.Globalization.CultureInfo.InvariantCulture)).Order()];
            }
            List<int> recorded = [];
            await LinkFaultTests.EventuallyAsync(async () => (recorded = await RecordedResultsAsync()).Count >= 6, TimeSpan.FromSeconds(10));
            Assert.Equal([1, 2, 3, 5, 6, 7], recorded);
            // The artifacts: gw-c, on the third node with an empty cache, compiles none of them.
            foreach (var version in before.Concat(after))
            {
                var fetched = await c.CliAsync("--device", "nrf", "build-and-deploy", "--module-id", "v", "--source", Source(version));
                CliAssert.Exit(0, fetched);
                Assert.True(fetched.Stdout.Contains("(cache hit: nothing compiled)", StringComparison.Ordinal), $"version {version} was compiled again:\n{c.Logs}");
            }
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task A_lost_gateway_makes_its_devices_unreachable_by_name_and_they_return_with_it()
    {
        await using var nats = NatsServer.Start();
        await using var a = Member(nats, "gw-a", "nucleo");
        await using var b = Member(nats, "gw-b", "disco");
        CliAssert.Exit(0, await a.CliAsync("--device", "disco", "status"));
        CliAssert.Exit(0, await a.CliAsync("--device", "nucleo", "status"));

        await b.KillGatewayAsync();
        var lost = await a.CliAsync("--device", "disco", "status");
        CliAssert.Exit(4, lost);
        Assert.Contains("DEVICE_UNREACHABLE: device 'disco' is on gateway 'gw-b', which is not connected to fleet 'lab'", lost.Stderr, StringComparison.Ordinal);
        var devices = await a.CliAsync("devices");
        CliAssert.Exit(0, devices);
        Assert.Matches(@"disco\s+-\s+gateway-lost  gateway=gw-b", devices.Stdout);
        Assert.Matches(@"nucleo\s+tcp://127\.0\.0\.1:\d+\s+connected  gateway=gw-a", devices.Stdout);

        // The same gateway back (same name): its claims are its own, and its device is served again.
        b.StartGateway();
        var back = await a.CliAsync("--device", "disco", "status");
        CliAssert.Exit(0, back);
        Assert.Contains("gateway=gw-b", back.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gateway_started_while_NATS_is_away_serves_its_own_devices_and_joins_when_it_answers()
    {
        var port = TcpPorts.Unused();
        await using var a = Member($"nats://127.0.0.1:{port}", "gw-a", "nucleo");
        CliAssert.Exit(0, await a.CliAsync("--device", "nucleo", "status"));

        await using var nats = NatsServer.Start(port);
        await using var b = Member(nats, "gw-b", "disco");
        // gw-a retries every second; within 20 s (EventuallyAsync's bound) gw-b reaches its device through the fleet.
        CliResult? through = null;
        await LinkFaultTests.EventuallyAsync(async () => (through = await b.CliAsync("--device", "nucleo", "status")).ExitCode == 0);
        CliAssert.Exit(0, through!);
        Assert.Contains("gateway=gw-a", through!.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_fleet_behind_a_password_takes_the_right_one_hides_it_and_refuses_a_wrong_one()
    {
        await using var nats = NatsServer.Start(0, "--user", "wasmorch", "--pass", "s3cret-fleet");
        await using var a = Member($"nats://wasmorch:s3cret-fleet@127.0.0.1:{nats.Port}", "gw-a", "nucleo");
        Assert.Contains($"fleet lab at nats://wasmorch:***@127.0.0.1:{nats.Port} as gateway gw-a", a.Logs, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret-fleet", a.Logs, StringComparison.Ordinal);
        CliAssert.Exit(0, await a.CliAsync("--device", "nucleo", "status"));

        await using var wrong = RunningProcess.StartCli("gateway", "--port", "0", "--state", "off", "--nats", $"nats://wasmorch:guess@127.0.0.1:{nats.Port}", "--name", "gw-x", "--fleet", "lab", "--fleet-insecure");
        Assert.Equal(2, await wrong.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains($"UNAUTHORIZED: NATS at nats://wasmorch:***@127.0.0.1:{nats.Port} refused this gateway's credentials", wrong.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("guess", wrong.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_fleets_in_two_accounts_of_one_server_see_nothing_of_each_other()
    {
        var config = Path.Combine(Path.GetTempPath(), $"wasmorch-nats-{Guid.NewGuid():n}.conf");
        // As docs/fleet.md advises: an account per fleet (its own subjects and JetStream assets),
        // and in LAB, the gateway's user narrowed to the permissions docs/fleet.md lists.
        await File.WriteAllTextAsync(config, """
            accounts {
              LAB { jetstream: enabled, users: [ { user: lab, password: lab-secret-1, permissions: {
                publish:   { allow: [ "wasmorch.lab.>", "$JS.API.>", "$KV.wasmorch_lab_devices.>", "$KV.wasmorch_lab_state.>",
                                      "$O.wasmorch_lab_artifacts.>", "$JS.FC.>", "$JS.ACK.>", "_INBOX.>" ] }
                subscribe: { allow: [ "wasmorch.lab.>", "$KV.wasmorch_lab_devices.>", "$KV.wasmorch_lab_state.>",
                                      "$O.wasmorch_lab_artifacts.>", "_INBOX.>" ] } } } ] }
              SHOP { jetstream: enabled, users: [ { user: shop, password: shop-secret-2 } ] }
            }
            """);
        try
        {
            await using var nats = NatsServer.Start(0, "-c", config);
            // Both call their fleet "lab" and their board "disco": in separate accounts, no clash.
            await using var lab = Member($"nats://lab:lab-secret-1@127.0.0.1:{nats.Port}", "gw-lab", "disco");
            await using var shop = Member($"nats://shop:shop-secret-2@127.0.0.1:{nats.Port}", "gw-shop", "disco");

            CliAssert.Exit(0, await CliRunner.RunAsync($"nats://lab:lab-secret-1@127.0.0.1:{nats.Port}?fleet=lab", "--device", "disco", "status"));
            var seenByLab = await CliRunner.RunAsync($"nats://lab:lab-secret-1@127.0.0.1:{nats.Port}?fleet=lab", "devices");
            CliAssert.Exit(0, seenByLab);
            Assert.Matches(@"^disco\s+\S+\s+connected  gateway=gw-lab  labels=board=disco,gateway=gw-lab,runtime=wasmtime,runtime_version=[0-9.]+$", seenByLab.Stdout.Split('\n')[0]);
            Assert.DoesNotContain("gw-shop", seenByLab.Stdout, StringComparison.Ordinal);
            // Under those permissions the lab gateway builds, deploys, runs and records (buckets, streams, replies).
            var labCli = $"nats://lab:lab-secret-1@127.0.0.1:{nats.Port}?fleet=lab";
            CliAssert.Exit(0, await CliRunner.RunAsync(labCli, "--device", "disco", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c")));
            var run = await CliRunner.RunAsync(labCli, "--device", "disco", "start", "--module-id", "math_ops", "--func-name", "mul", "--func-args", "6,7", "--wait-result");
            CliAssert.Exit(0, run);
            Assert.Contains("value=42", run.Stdout, StringComparison.Ordinal);
            // And keeps the fleet's desired state (its state bucket).
            var manifest = Path.Combine(Path.GetTempPath(), $"wasmorch-lab-{Guid.NewGuid():n}.toml");
            await File.WriteAllTextAsync(manifest, $"[[module]]\nid = \"m\"\nsource = \"{RepoPaths.Module("math_ops.c")}\"\nselector = \"board=disco\"\n");
            var applied = await lab.CliAsync("apply", "--file", manifest);
            File.Delete(manifest);
            CliAssert.Exit(0, applied);
            Assert.Contains("1 device(s): 1 missing, 0 different, 0 same, 1 extra, 0 unreachable; 1 deployed, 0 failed", applied.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("Permissions Violation", lab.Logs, StringComparison.OrdinalIgnoreCase);
            var seenByShop = await CliRunner.RunAsync($"nats://shop:shop-secret-2@127.0.0.1:{nats.Port}?fleet=lab", "--device", "disco", "status");
            CliAssert.Exit(0, seenByShop);
            Assert.Contains("gateway=gw-shop", seenByShop.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public async Task Replicas_beyond_what_the_server_can_keep_are_refused_at_start()
    {
        await using var nats = NatsServer.Start();
        var config = Path.Combine(Directory.CreateTempSubdirectory("wasmorch-fleet-r3-").FullName, "wasmorch.toml");
        await File.WriteAllTextAsync(config, $"[fleet]\nnats = \"{nats.Url}\"\nname = \"gw-a\"\nreplicas = 3\ninsecure_dev = true\n");
        await using var gateway = RunningProcess.StartCli("gateway", "--port", "0", "--state", "off", "--config", config);
        Assert.Equal(2, await gateway.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains($"BAD_REQUEST: NATS at {nats.Url} refused the buckets of fleet 'default'", gateway.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_board_moves_to_another_gateway_once_its_old_gateway_is_gone_and_its_claim_released()
    {
        await using var nats = NatsServer.Start();
        await using var a = Member(nats, "gw-a", "nucleo");
        var fleet = $"{nats.Url}?fleet=lab";

        var busy = await CliRunner.RunAsync(fleet, "--device", "nucleo", "fleet", "release");
        CliAssert.Exit(7, busy);
        Assert.Contains("DEVICE_CLAIMED: gateway 'gw-a' is running and owns 'nucleo'", busy.Stderr, StringComparison.Ordinal);

        await a.KillGatewayAsync();
        var released = await CliRunner.RunAsync(fleet, "--device", "nucleo", "fleet", "release");
        CliAssert.Exit(0, released);
        Assert.Contains("released nucleo (was gateway gw-a)", released.Stdout, StringComparison.Ordinal);

        await using var c = new SystemUnderTest();
        c.AddDevice("nucleo", $"tcp://127.0.0.1:{a.BoardPorts["nucleo"]}");
        c.GatewayArgs.AddRange(["--nats", nats.Url, "--name", "gw-c", "--fleet", "lab", "--fleet-insecure"]);
        c.StartGateway();
        var status = await CliRunner.RunAsync(fleet, "--device", "nucleo", "status");
        CliAssert.Exit(0, status);
        Assert.Contains("gateway=gw-c", status.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_gateway_claiming_a_device_of_another_is_refused_and_takes_nothing_over()
    {
        await using var nats = NatsServer.Start();
        await using var a = Member(nats, "gw-a", "nucleo");

        await using var intruder = RunningProcess.StartCli("gateway", "--port", "0", "--state", "off", "--nats", nats.Url, "--name", "gw-c", "--fleet", "lab", "--fleet-insecure",
            "--add-device", $"nucleo=tcp://127.0.0.1:{a.BoardPorts["nucleo"]}");
        Assert.Equal(2, await intruder.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("DEVICE_CLAIMED: device 'nucleo' belongs to gateway 'gw-a' of fleet 'lab'", intruder.Output, StringComparison.Ordinal);

        var status = await a.CliAsync("--json", "--device", "nucleo", "status");
        CliAssert.Exit(0, status);
        Assert.DoesNotContain("\"gateway\"", status.Stdout, StringComparison.Ordinal);
    }
}
