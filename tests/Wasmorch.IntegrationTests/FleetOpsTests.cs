using System.Text.RegularExpressions;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Issue 17 across a fleet (docs/fleet-ops.md): one desired state for every gateway's devices,
/// kept by the fleet, and rollouts whose waves span gateways, one at a time fleet-wide. Three
/// gateways over a real nats-server, one emulated board each (a1 on gw-a, b1 on gw-b, c1 on gw-c).
/// </summary>
public sealed class FleetOpsTests
{
    private static SystemUnderTest Member(NatsServer nats, string gateway, string board)
    {
        var system = new SystemUnderTest();
        system.StartBoard(board, 0);
        system.GatewayArgs.AddRange(["--nats", nats.Url, "--name", gateway, "--fleet", "lab", "--fleet-insecure"]);
        system.StartGateway();
        return system;
    }

    private static string Source(string dir, int version, bool trapping = false)
    {
        var path = Path.Combine(Directory.CreateDirectory(Path.Combine(dir, $"v{version}")).FullName, "v.c");
        File.WriteAllText(path, $$"""
            #include "wasmorch.h"
            WASMORCH_EXPORT("version") int32_t version(void) { return {{version}}; }
            WASMORCH_EXPORT("self_test") int32_t self_test(void) { {{(trapping ? "__builtin_trap(); " : "")}}return 0; }
            """);
        return path;
    }

    /// <summary>The version of v each board runs, as "a1=2 b1=2 c1=2".</summary>
    private static async Task<string> VersionsAsync(SystemUnderTest via)
    {
        var run = await via.CliAsync("--selector", "runtime=wasmtime", "start", "--module-id", "v", "--func-name", "version", "--wait-result");
        return string.Join(' ', Regex.Matches(run.Stdout, @"(?m)^(\w+): v\.version job=\d+ status=OK value=(\d+) ").Select(m => $"{m.Groups[1].Value}={m.Groups[2].Value}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task One_desired_state_converges_every_gateways_boards_and_a_gateway_away_adopts_it_when_back()
    {
        await using var nats = NatsServer.Start();
        await using var a = Member(nats, "gw-a", "a1");
        await using var b = Member(nats, "gw-b", "b1");
        await using var c = Member(nats, "gw-c", "c1");
        var dir = Directory.CreateTempSubdirectory("wasmorch-fleet-desired-").FullName;
        try
        {
            Source(dir, 1);
            var manifest = Path.Combine(dir, "fleet.toml");
            await File.WriteAllTextAsync(manifest, "[[module]]\nid = \"v\"\nsource = \"v1/v.c\"\nselector = \"runtime=wasmtime\"\nautostart = \"version\"\n");
            // Auto labels (runtime) come with a board's HELLO_OK: every board answers first.
            foreach (var board in new[] { "a1", "b1", "c1" })
            {
                CliAssert.Exit(0, await a.CliAsync("--device", board, "status"));
            }
            await c.KillGatewayAsync();

            // Applied on gw-a: its board and gw-b's get the module and start it; gw-c is away.
            var applied = await a.CliAsync("apply", "--file", manifest);
            CliAssert.Exit(0, applied);
            Assert.True(applied.Stdout.Contains("2 device(s): 2 missing, 0 different, 0 same, 0 extra, 0 unreachable; 2 deployed, 0 failed", StringComparison.Ordinal), applied.Stdout);
            Assert.Matches(@"(?m)^a1\s+v\s+missing -> version 1: started$", applied.Stdout);
            Assert.Matches(@"(?m)^b1\s+v\s+missing -> version 1: started$", applied.Stdout);
            // gw-b holds the same desired state: its diff sees both boards converged.
            var diff = await b.CliAsync("diff");
            CliAssert.Exit(0, diff);
            Assert.Contains("2 device(s): 0 missing, 0 different, 2 same, 0 extra, 0 unreachable", diff.Stdout, StringComparison.Ordinal);

            // gw-c comes back, finds the fleet's desired state and converges its board without being asked.
            c.StartGateway();
            CliResult? after = null;
            try
            {
                await LinkFaultTests.EventuallyAsync(async () => (after = await a.CliAsync("diff")).Stdout.Contains("3 same", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
            }
            catch (Xunit.Sdk.XunitException ex)
            {
                throw new InvalidOperationException($"{ex.Message}\n{after?.Stdout}\ngw-c:\n{c.Logs}", ex);
            }
            Assert.Contains("3 device(s): 0 missing, 0 different, 3 same, 0 extra, 0 unreachable", after!.Stdout, StringComparison.Ordinal);
            Assert.Matches(@"c1\s+job=1\s+v\.version\(\) OK value=1 ", (await a.CliAsync("--device", "c1", "jobs")).Stdout);
            Assert.Equal("a1=1 b1=1 c1=1", await VersionsAsync(b));

            // A rollout of a module the desired state places would be undone by the reconciler: refused, nothing touched.
            var rollout = await c.CliAsync("--selector", "board=b1", "rollout", "start", "--module-id", "v", "--source", Source(dir, 2), "--check", "self_test");
            CliAssert.Exit(2, rollout);
            Assert.Contains("'v' is in the desired state for devices this rollout selects (selector 'runtime=wasmtime'): the reconciler would undo the rollout", rollout.Stderr, StringComparison.Ordinal);
            Assert.Equal("a1=1 b1=1 c1=1", await VersionsAsync(b));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Extra_modules_are_reported_and_kept_and_apply_with_prune_unloads_them_on_every_gateway()
    {
        await using var nats = NatsServer.Start();
        await using var a = Member(nats, "gw-a", "a1");
        await using var b = Member(nats, "gw-b", "b1");
        var dir = Directory.CreateTempSubdirectory("wasmorch-fleet-prune-").FullName;
        try
        {
            CliAssert.Exit(0, await a.CliAsync("--selector", "gateway!=none", "build-and-deploy", "--module-id", "old", "--source", RepoPaths.Module("math_ops.c")));
            Source(dir, 1);
            var manifest = Path.Combine(dir, "fleet.toml");
            await File.WriteAllTextAsync(manifest, "[[module]]\nid = \"v\"\nsource = \"v1/v.c\"\nselector = \"runtime=wasmtime\"\n");

            var kept = await a.CliAsync("apply", "--file", manifest);
            CliAssert.Exit(0, kept);
            Assert.Matches(@"(?m)^b1\s+old\s+extra$", kept.Stdout);
            Assert.Contains("2 device(s): 2 missing, 0 different, 0 same, 2 extra, 0 unreachable; 2 deployed, 0 failed", kept.Stdout, StringComparison.Ordinal);
            var held = (await a.CliAsync("--device", "b1", "status")).Stdout;
            Assert.True(held.Contains("modules=old,v ", StringComparison.Ordinal), held);

            // A gateway's own devices carry its gateway label for apply as in the fleet's device list.
            var onA = Path.Combine(dir, "on-a.toml");
            await File.WriteAllTextAsync(onA, "[[module]]\nid = \"v\"\nsource = \"v1/v.c\"\nselector = \"gateway=gw-a\"\n");
            var planOnA = await a.CliAsync("apply", "--file", onA, "--dry-run");
            CliAssert.Exit(0, planOnA);
            Assert.Matches(@"(?m)^a1\s+v\s+same \(version 1 there\) -> version 1$", planOnA.Stdout);
            Assert.Contains("1 device(s): 0 missing, 0 different, 1 same, 1 extra, 0 unreachable", planOnA.Stdout, StringComparison.Ordinal);

            var pruned = await b.CliAsync("apply", "--file", manifest, "--prune");
            CliAssert.Exit(0, pruned);
            Assert.Matches(@"(?m)^a1\s+old\s+extra: unloaded$", pruned.Stdout);
            Assert.Matches(@"(?m)^b1\s+old\s+extra: unloaded$", pruned.Stdout);
            Assert.Contains("2 device(s): 0 missing, 0 different, 2 same, 2 extra, 0 unreachable; 0 deployed, 2 unloaded, 0 failed", pruned.Stdout, StringComparison.Ordinal);
            var diff = await a.CliAsync("diff");
            Assert.Contains("2 device(s): 0 missing, 0 different, 2 same, 0 extra, 0 unreachable", diff.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_rollout_spans_gateways_rolls_back_a_remote_canary_and_runs_one_at_a_time_in_the_fleet()
    {
        await using var nats = NatsServer.Start();
        await using var a = Member(nats, "gw-a", "a1");
        await using var b = Member(nats, "gw-b", "b1");
        await using var c = Member(nats, "gw-c", "c1");
        var dir = Directory.CreateTempSubdirectory("wasmorch-fleet-rollout-").FullName;
        try
        {
            // a1 holds a version only gw-a ever saw (11); b1 and c1 hold version 1.
            CliAssert.Exit(0, await a.CliAsync("--device", "a1", "build-and-deploy", "--module-id", "v", "--source", Source(dir, 11)));
            CliAssert.Exit(0, await a.CliAsync("--selector", "gateway!=gw-a", "build-and-deploy", "--module-id", "v", "--source", Source(dir, 1)));
            Assert.Equal("a1=11 b1=1 c1=1", await VersionsAsync(a));

            // Coordinated by gw-c: the canary is a1 on gw-a; its check traps, so it gets 11 back from gw-a's record.
            var trapping = await c.CliAsync("--selector", "runtime=wasmtime", "rollout", "start", "--module-id", "v", "--source", Source(dir, 3, trapping: true),
                "--check", "self_test", "--waves", "1,100%");
            CliAssert.Exit(0, trapping);
            CliResult? status = null;
            await LinkFaultTests.EventuallyAsync(async () => (status = await a.CliAsync("rollout", "status")).Stdout.Contains(": rolled-back, ", StringComparison.Ordinal), TimeSpan.FromSeconds(40));
            // Asked on gw-a, answered by gw-c, the coordinator.
            Assert.Contains("on 'runtime=wasmtime': rolled-back, wave 1 of 2, 1 failed (at most 0): 1 device(s) failed in wave 1 (at most 0 allowed)", status!.Stdout, StringComparison.Ordinal);
            Assert.Matches(@"(?m)^  a1\s+wave 1 rolled-back \(failed, then put back its previous version\)$", status.Stdout);
            Assert.Equal(2, Regex.Count(status.Stdout, @"(?m)^  [bc]1\s+wave 2 pending$"));
            Assert.Equal("a1=11 b1=1 c1=1", await VersionsAsync(b));

            // gw-b takes over as coordinator for a good version; while it soaks, no other rollout can start anywhere.
            CliAssert.Exit(0, await b.CliAsync("--selector", "runtime=wasmtime", "rollout", "start", "--module-id", "v", "--source", Source(dir, 2),
                "--check", "self_test", "--waves", "1,100%", "--soak", "2s"));
            var second = await a.CliAsync("--selector", "runtime=wasmtime", "rollout", "start", "--module-id", "v", "--source", Source(dir, 4), "--check", "self_test");
            CliAssert.Exit(7, second);
            Assert.Contains("error: ROLLOUT_RUNNING: ", second.Stderr, StringComparison.Ordinal);
            Assert.Matches(@"rollout \d+ of 'v' is running on gateway 'gw-b': abort it or let it end first \(one rollout at a time in a fleet\)", second.Stderr);
            await LinkFaultTests.EventuallyAsync(async () => (status = await c.CliAsync("rollout", "status")).Stdout.Contains(": done, ", StringComparison.Ordinal), TimeSpan.FromSeconds(40));
            Assert.Equal(3, Regex.Count(status!.Stdout, @"(?m)^  [abc]1\s+wave [12] ok$"));
            Assert.Equal("a1=2 b1=2 c1=2", await VersionsAsync(c));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
