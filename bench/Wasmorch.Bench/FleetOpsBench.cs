using System.Diagnostics;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Bench;

/// <summary>
/// docs/fleet-ops.md: apply of one module to 1,000 boards against 100 (per-board cost), a rollout
/// of 1,000 boards in 4 waves with checks, and how soon the reconciler puts a module back on a
/// board that lost power (against the target of 1 s).
/// </summary>
public static class FleetOpsBench
{
    public static async Task<IReadOnlyList<BenchResult>> RunAsync(string cacheDir)
    {
        var apply100 = await ApplyAsync(100, cacheDir);
        var apply1000 = await ApplyAsync(1000, cacheDir);
        var rollout = await RolloutAsync(1000, cacheDir);
        var (p50, max) = await ReconcileAsync(cacheDir);
        return
        [
            new("fleet ops: apply one module to 1,000 boards", apply1000, "s", "apply to 100 boards", apply100, double.PositiveInfinity, false,
                "10× the boards; the per-board ratio is the next row. Apply = build once, plan from each board's STATUS, deploy, autostart"),
            new("fleet ops: apply, per-board cost 1,000 vs 100 boards", apply1000 / 1000 * 1000, "ms", "per board at 100", apply100 / 100 * 1000, 1.2, false, "≤ 1.2: no worse than linear, with margin"),
            new("fleet ops: rollout to 1,000 boards in 4 waves (1,10%,50%,100%) with a check each", rollout, "s", "apply to the same 1,000", apply1000, double.PositiveInfinity, false,
                "deploy + check function + bookkeeping per board; no target set"),
            new("fleet ops: reconcile after a board loses power, p50 of 5", p50, "ms", "target", 1000, 1, false, $"from the board back (empty) to its module back (autostart is started in the same step); max {max:0} ms"),
        ];
    }

    private static HostRequest Apply(bool dryRun = false) => new()
    {
        Op = HostOps.Apply,
        DryRun = dryRun,
        Desired = [new DesiredModule { ModuleId = "m", Selector = "bench=yes", Module = Convert.ToBase64String(Modules.WithSelfTest), Autostart = "self_test" }],
    };

    private static async Task<double> ApplyAsync(int boards, string cacheDir)
    {
        await using var harness = await Harness.StartAsync(boards, cacheDir, labelled: true);
        await using var client = await HostClient.ConnectAsync(harness.Gateway);
        var clock = Stopwatch.StartNew();
        var (response, _) = await client.SendAsync(Apply());
        var wall = clock.Elapsed.TotalSeconds;
        if (!response.Ok || response.Plan!.Count(p => p.Outcome == "started") != boards)
        {
            throw new InvalidOperationException($"apply to {boards} boards: {response.Error?.Message}");
        }
        return wall;
    }

    private static async Task<double> RolloutAsync(int boards, string cacheDir)
    {
        await using var harness = await Harness.StartAsync(boards, cacheDir, labelled: true);
        await using var client = await HostClient.ConnectAsync(harness.Gateway);
        var clock = Stopwatch.StartNew();
        var (started, _) = await client.SendAsync(new HostRequest
        {
            Op = HostOps.Rollout, Action = "start", Selector = "bench=yes", ModuleId = "m", Module = Convert.ToBase64String(Modules.WithSelfTest),
            Waves = "1,10%,50%,100%", Check = "self_test",
        });
        if (!started.Ok)
        {
            throw new InvalidOperationException($"rollout: {started.Error?.Message}");
        }
        while (true)
        {
            var (status, _) = await client.SendAsync(new HostRequest { Op = HostOps.Rollout, Action = "status" });
            if (status.Rollout!.State == "done")
            {
                return clock.Elapsed.TotalSeconds;
            }
            if (status.Rollout.State != "running")
            {
                throw new InvalidOperationException($"rollout ended {status.Rollout.State}: {status.Rollout.Reason}");
            }
            await Task.Delay(50);
        }
    }

    private static async Task<(double P50, double Max)> ReconcileAsync(string cacheDir)
    {
        await using var harness = await Harness.StartAsync(10, cacheDir, labelled: true);
        await using var client = await HostClient.ConnectAsync(harness.Gateway);
        var (applied, _) = await client.SendAsync(Apply());
        if (!applied.Ok)
        {
            throw new InvalidOperationException($"apply: {applied.Error?.Message}");
        }
        var samples = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            var board = $"b{i}";
            await harness.PowerCycleAsync(board);
            var clock = Stopwatch.StartNew();
            while (true)
            {
                var (status, _) = await client.SendAsync(new HostRequest { Op = HostOps.Status, Device = board });
                if (status.Ok && status.Agent?.GetValueOrDefault("module_crcs")?.StartsWith("m:", StringComparison.Ordinal) == true)
                {
                    break;
                }
                if (clock.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new InvalidOperationException($"{board}: the module was not back within 30 s");
                }
                await Task.Delay(5);
            }
            samples.Add(clock.Elapsed.TotalMilliseconds);
        }
        return (Stats.Percentile(samples, 50), samples.Max());
    }
}
