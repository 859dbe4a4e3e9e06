using System.Globalization;
using System.Text.RegularExpressions;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>Issue 17, staged rollouts (docs/fleet-ops.md): waves, a health check, automatic rollback, a gateway restart in the middle.</summary>
public sealed class RolloutTests
{
    /// <summary>10 boards r0..r9 in one emulator, labelled fleet=r, all holding version 1 of module v.</summary>
    private static async Task<(SystemUnderTest System, RunningProcess Boards, string Dir)> StartAsync(params string[] gatewayArgs)
    {
        var (system, boards, _, dir) = await StartWithAsync(null, gatewayArgs);
        return (system, boards, dir);
    }

    /// <summary>As <see cref="StartAsync"/>, and <paramref name="separate"/> (also fleet=r) in an emulator of its own, to be stopped by itself.</summary>
    private static async Task<(SystemUnderTest System, RunningProcess Boards, RunningProcess? Separate, string Dir)> StartWithAsync(string? separate, params string[] gatewayArgs)
    {
        var dir = Directory.CreateTempSubdirectory("wasmorch-rollout-").FullName;
        var boards = RunningProcess.StartCli(["emulate", "--stop-grace-ms", "300", .. Enumerable.Range(0, 10).SelectMany(i => new[] { "--board", $"r{i}=0" })]);
        var config = string.Concat(Enumerable.Range(0, 10).Select(i =>
            $"[devices.r{i}]\nendpoint = \"tcp://127.0.0.1:{boards.WaitForLine($@"board r{i} listening on tcp://127\.0\.0\.1:(\d+)").Groups[1].Value}\"\nlabels = {{ fleet = \"r\" }}\n"));
        var other = separate is null ? null : RunningProcess.StartCli("emulate", "--stop-grace-ms", "300", "--board", $"{separate}=0");
        if (other is not null)
        {
            config += $"[devices.{separate}]\nendpoint = \"tcp://127.0.0.1:{other.WaitForLine($@"board {separate} listening on tcp://127\.0\.0\.1:(\d+)").Groups[1].Value}\"\nlabels = {{ fleet = \"r\" }}\n";
        }
        await File.WriteAllTextAsync(Path.Combine(dir, "wasmorch.toml"), config);
        var system = new SystemUnderTest();
        system.GatewayArgs.AddRange(["--config", Path.Combine(dir, "wasmorch.toml"), .. gatewayArgs]);
        system.StartGateway();
        CliAssert.Exit(0, await system.CliAsync("--selector", "fleet=r", "build-and-deploy", "--module-id", "v", "--source", Source(dir, 1, trapping: false)));
        return (system, boards, other, dir);
    }

    /// <summary>Version <paramref name="version"/> of v; <paramref name="slowToBuild"/>: clang takes about half a second over it (a function of 262144 statements it folds away).</summary>
    private static string Source(string dir, int version, bool trapping, bool slowToBuild = false)
    {
        var path = Path.Combine(Directory.CreateDirectory(Path.Combine(dir, $"v{version}")).FullName, "v.c");
        File.WriteAllText(path, $$"""
            #include "wasmorch.h"
            WASMORCH_EXPORT("version") int32_t version(void) { return {{version}}; }
            WASMORCH_EXPORT("self_test") int32_t self_test(void) { {{(trapping ? "__builtin_trap(); " : "")}}return 0; }
            """ + (slowToBuild ? $$"""

            /* {{Guid.NewGuid():n}}: a source never built before, so no artifact cache (this machine's or a CI runner's) makes it quick. */
            #define A(x) x = x * 31u + 7u;
            #define B(x) A(x) A(x) A(x) A(x)
            #define C(x) B(x) B(x) B(x) B(x)
            #define D(x) C(x) C(x) C(x) C(x)
            #define E(x) D(x) D(x) D(x) D(x)
            #define F(x) E(x) E(x) E(x) E(x)
            #define G(x) F(x) F(x) F(x) F(x)
            #define H(x) G(x) G(x) G(x) G(x)
            #define I(x) H(x) H(x) H(x) H(x)
            WASMORCH_EXPORT("heavy") int32_t heavy(void) { uint32_t x = 5; I(x) return (int32_t)x; }
            """ : ""));
        return path;
    }

    /// <summary>How many of the 10 boards run <paramref name="version"/> of v.</summary>
    private static async Task<int> RunningVersionAsync(SystemUnderTest system, int version)
    {
        var run = await system.CliAsync("--selector", "fleet=r", "start", "--module-id", "v", "--func-name", "version", "--wait-result");
        return Regex.Count(run.Stdout, $@"(?m)^r\d: v\.version job=\d+ status=OK value={version} ");
    }

    private static async Task<CliResult> WaitForStateAsync(SystemUnderTest system, string state)
    {
        CliResult? status = null;
        await LinkFaultTests.EventuallyAsync(async () => (status = await system.CliAsync("rollout", "status")).Stdout.Contains($": {state}, ", StringComparison.Ordinal), TimeSpan.FromSeconds(40));
        return status!;
    }

    [Fact]
    public async Task A_good_version_reaches_every_board_and_one_whose_check_traps_stops_in_the_canary_and_rolls_back()
    {
        var (system, boards, dir) = await StartAsync();
        await using var _ = system;
        await using var __ = boards;
        try
        {
            var started = await system.CliAsync("--selector", "fleet=r", "rollout", "start", "--module-id", "v", "--source", Source(dir, 2, trapping: false),
                "--check", "self_test", "--waves", "1,50%,100%");
            CliAssert.Exit(0, started);
            Assert.Contains("rollout 1 of v version 2 on 'fleet=r': running", started.Stdout, StringComparison.Ordinal);
            var done = await WaitForStateAsync(system, "done");
            Assert.Contains("rollout 1 of v version 2 on 'fleet=r': done, wave 3 of 3, 0 failed (at most 0)", done.Stdout, StringComparison.Ordinal);
            Assert.Equal(10, Regex.Count(done.Stdout, @"(?m)^  r\d\s+wave [123] ok$"));
            Assert.Equal(10, await RunningVersionAsync(system, 2));

            // Version 3's self_test traps: the canary (r0, wave 1) fails, nothing else is touched, r0 gets version 2 back.
            CliAssert.Exit(0, await system.CliAsync("--selector", "fleet=r", "rollout", "start", "--module-id", "v", "--source", Source(dir, 3, trapping: true),
                "--check", "self_test", "--waves", "1,50%,100%"));
            var rolledBack = await WaitForStateAsync(system, "rolled-back");
            Assert.Contains("rollout 2 of v version 3 on 'fleet=r': rolled-back, wave 1 of 3, 1 failed (at most 0): 1 device(s) failed in wave 1 (at most 0 allowed)", rolledBack.Stdout, StringComparison.Ordinal);
            Assert.Matches(@"(?m)^  r0\s+wave 1 rolled-back \(failed, then put back its previous version\)$", rolledBack.Stdout);
            Assert.Equal(9, Regex.Count(rolledBack.Stdout, @"(?m)^  r\d\s+wave [23] pending$"));
            Assert.Equal(10, await RunningVersionAsync(system, 2));

            // Issue 31, bug 7: the status says why r0 failed (the trap's text, only in jobs before) and exits 10, rolled back.
            CliAssert.Exit(10, rolledBack);
            var cause = Regex.Match(rolledBack.Stdout, @"(?m)^  r0\s+wave 1 rolled-back .*\n    cause: check trapped: (.+) \(job (\d+)\)$");
            Assert.True(cause.Success, rolledBack.Stdout);
            var jobs = await system.CliAsync("--device", "r0", "jobs");
            Assert.Matches($@"(?m)^.*\b{cause.Groups[2].Value}\b.*self_test.*TRAP.*{Regex.Escape(cause.Groups[1].Value)}", jobs.Stdout);
            var json = await system.CliAsync("--json", "rollout", "status");
            CliAssert.Exit(10, json);
            using var status = System.Text.Json.JsonDocument.Parse(json.Stdout);
            Assert.Equal(10, status.RootElement.GetProperty("exit_code").GetInt32());
            Assert.Equal("rolled-back", status.RootElement.GetProperty("rollout").GetProperty("state").GetString());
            var failure = status.RootElement.GetProperty("rollout").GetProperty("devices")[0].GetProperty("failure");
            Assert.Equal("check-trap", failure.GetProperty("kind").GetString());
            Assert.Equal("TRAP", failure.GetProperty("code").GetString());
            Assert.Equal(cause.Groups[1].Value, failure.GetProperty("detail").GetString());
            Assert.Equal(long.Parse(cause.Groups[2].Value, CultureInfo.InvariantCulture), failure.GetProperty("job").GetInt64());
            Assert.False(status.RootElement.GetProperty("rollout").GetProperty("devices")[1].TryGetProperty("failure", out var none), none.ToString());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_gateway_killed_in_the_middle_of_a_rollout_carries_it_on_after_its_restart()
    {
        var (system, boards, dir) = await StartAsync();
        await using var _ = system;
        await using var __ = boards;
        try
        {
            CliAssert.Exit(0, await system.CliAsync("--selector", "fleet=r", "rollout", "start", "--module-id", "v", "--source", Source(dir, 2, trapping: false),
                "--check", "self_test", "--waves", "1,50%,100%", "--soak", "1500ms"));
            // Wave 1 (r0) takes the soak; kill the gateway once wave 2 is under way.
            await LinkFaultTests.EventuallyAsync(async () => (await system.CliAsync("rollout", "status")).Stdout.Contains("running, wave 2 of 3", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
            await system.KillGatewayAsync();
            system.StartGateway();

            var done = await WaitForStateAsync(system, "done");
            Assert.Contains("rollout 1 of v version 2 on 'fleet=r': done, wave 3 of 3, 0 failed (at most 0)", done.Stdout, StringComparison.Ordinal);
            Assert.Equal(10, Regex.Count(done.Stdout, @"(?m)^  r\d\s+wave [123] ok$"));
            Assert.Equal(10, await RunningVersionAsync(system, 2));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_paused_rollout_waits_until_resumed_and_an_aborted_one_puts_back_what_it_touched()
    {
        var (system, boards, dir) = await StartAsync();
        await using var _ = system;
        await using var __ = boards;
        try
        {
            CliAssert.Exit(0, await system.CliAsync("--selector", "fleet=r", "rollout", "start", "--module-id", "v", "--source", Source(dir, 2, trapping: false),
                "--check", "self_test", "--waves", "1,50%,100%", "--soak", "1500ms"));
            var paused = await system.CliAsync("rollout", "pause");
            CliAssert.Exit(0, paused);
            Assert.Contains("rollout 1 of v version 2 on 'fleet=r': paused, wave 1 of 3", paused.Stdout, StringComparison.Ordinal);
            // Paused means nothing moves: well past a wave's soak, wave 2 has not begun.
            await Task.Delay(3000);
            var still = await system.CliAsync("rollout", "status");
            Assert.Contains(": paused, wave 1 of 3", still.Stdout, StringComparison.Ordinal);
            Assert.Equal(9, Regex.Count(still.Stdout, @"(?m)^  r\d\s+wave [23] pending$"));
            CliAssert.Exit(0, await system.CliAsync("rollout", "resume"));
            await WaitForStateAsync(system, "done");
            Assert.Equal(10, await RunningVersionAsync(system, 2));

            // Version 3, aborted once its first wave is through: r0 gets version 2 back, the rest never left it.
            CliAssert.Exit(0, await system.CliAsync("--selector", "fleet=r", "rollout", "start", "--module-id", "v", "--source", Source(dir, 3, trapping: false),
                "--check", "self_test", "--waves", "1,50%,100%", "--soak", "1500ms"));
            await LinkFaultTests.EventuallyAsync(async () => (await system.CliAsync("rollout", "status")).Stdout.Contains("running, wave 2 of 3", StringComparison.Ordinal), TimeSpan.FromSeconds(20));
            var aborted = await system.CliAsync("rollout", "abort");
            CliAssert.Exit(0, aborted);
            Assert.Contains("rollout 2 of v version 3 on 'fleet=r': aborted, wave 2 of 3, 0 failed (at most 0): aborted by request", aborted.Stdout, StringComparison.Ordinal);
            Assert.Matches(@"(?m)^  r0\s+wave 1 rolled-back \(put back its previous version\)$", aborted.Stdout);
            Assert.Equal(10, await RunningVersionAsync(system, 2));
            // Issue 31, bug 7: an aborted rollout's status exits 11.
            CliAssert.Exit(11, await system.CliAsync("rollout", "status"));
            var nothing = await system.CliAsync("rollout", "abort");
            CliAssert.Exit(2, nothing);
            Assert.Contains("rollout 2 is aborted: there is nothing to abort", nothing.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Issue 31, bug 7: <c>start --wait</c> follows the rollout, a line per wave done, and exits as the
    /// rollout ended: 0 done, 10 rolled back, with the check's value in the failed device's typed cause.
    /// </summary>
    [Fact]
    public async Task Start_wait_prints_each_wave_as_it_is_done_and_exits_10_with_the_cause_when_the_rollout_rolls_back()
    {
        var (system, boards, dir) = await StartAsync();
        await using var _ = system;
        await using var __ = boards;
        try
        {
            var good = await system.CliAsync("--selector", "fleet=r", "rollout", "start", "--module-id", "v", "--source", Source(dir, 2, trapping: false),
                "--check", "self_test", "--waves", "1,50%,100%", "--wait");
            CliAssert.Exit(0, good);
            // Live: each device as it is done, then its wave's line; at the end the status.
            Assert.Matches(@"(?s)rollout 1 of v version 2 on 'fleet=r': running.*\n"
                + @"rollout 1 wave 1: r0 ok\n"
                + @"rollout 1 wave 1 of 3 done: 1 device\(s\), 0 failed\n"
                + @"(rollout 1 wave 2: r\d ok\n){4}"
                + @"rollout 1 wave 2 of 3 done: 4 device\(s\), 0 failed\n"
                + @"(rollout 1 wave 3: r\d ok\n){5}"
                + @"rollout 1 wave 3 of 3 done: 5 device\(s\), 0 failed\n"
                + @"rollout 1 of v version 2 on 'fleet=r': done, wave 3 of 3, 0 failed \(at most 0\)\n", good.Stdout);
            Assert.Equal(10, Regex.Matches(good.Stdout, @"(?m)^rollout 1 wave \d: (r\d) ok$").Select(m => m.Groups[1].Value).Distinct().Count());

            // The check is version(), which returns 3: the canary fails on the value, and the rollout rolls back.
            var bad = await system.CliAsync("--json", "--selector", "fleet=r", "rollout", "start", "--module-id", "v", "--source", Source(dir, 3, trapping: false),
                "--check", "version", "--waves", "1,50%,100%", "--wait");
            CliAssert.Exit(10, bad);
            var lines = bad.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            using var started = System.Text.Json.JsonDocument.Parse(lines[0]);
            Assert.Equal("running", started.RootElement.GetProperty("rollout").GetProperty("state").GetString());
            // Live, typed: r0 failed with its cause, then was rolled back; wave 1 stopped the rollout.
            var events = lines[1..^1].Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
            Assert.Equal(["device:r0:failed", "device:r0:rolled-back", "wave:1:rolled-back"], events.Select(e => e.GetProperty("event").GetString() switch
            {
                "device" => $"device:{e.GetProperty("device").GetString()}:{e.GetProperty("outcome").GetString()}",
                "wave" => $"wave:{e.GetProperty("wave").GetInt32()}:{e.GetProperty("state").GetString()}",
                var other => other!,
            }));
            Assert.Equal("check-value", events[0].GetProperty("failure").GetProperty("kind").GetString());
            Assert.Equal("3", events[0].GetProperty("failure").GetProperty("value").GetString());
            Assert.Equal(1, events[2].GetProperty("failed").GetInt32());
            using var ended = System.Text.Json.JsonDocument.Parse(lines[^1]);
            Assert.Equal(10, ended.RootElement.GetProperty("exit_code").GetInt32());
            var rollout = ended.RootElement.GetProperty("rollout");
            Assert.Equal("rolled-back", rollout.GetProperty("state").GetString());
            var failure = rollout.GetProperty("devices")[0].GetProperty("failure");
            Assert.Equal("check-value", failure.GetProperty("kind").GetString());
            Assert.Equal("3", failure.GetProperty("value").GetString());
            Assert.Equal(10, await RunningVersionAsync(system, 2));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Issue 31, bug 3: two starts side by side both passed the "one rollout at a time" check (made
    /// before the build) and both ran over the same boards. Exactly one starts; the other is refused
    /// with ROLLOUT_RUNNING (exit 7), naming what is under way.
    /// </summary>
    [Fact]
    public async Task Two_rollouts_started_at_once_make_one_rollout_and_the_other_is_refused_with_rollout_running()
    {
        var (system, boards, dir) = await StartAsync();
        await using var _ = system;
        await using var __ = boards;
        try
        {
            // Each start's build takes clang half a second: the second start arrives while the first builds.
            string[] Start(int version) => ["--json", "--selector", "fleet=r", "rollout", "start", "--module-id", "v", "--source", Source(dir, version, trapping: false, slowToBuild: true),
                "--check", "self_test", "--waves", "1,100%"];
            var (two, three) = (Start(2), Start(3));
            var results = await Task.WhenAll(system.CliAsync(two), system.CliAsync(three));
            Assert.Single(results, r => r.ExitCode == 0);
            var refused = Assert.Single(results, r => r.ExitCode != 0);
            CliAssert.Exit(7, refused);
            using (var json = System.Text.Json.JsonDocument.Parse(refused.Stdout))
            {
                var error = json.RootElement.GetProperty("error");
                Assert.Equal("ROLLOUT_RUNNING", error.GetProperty("code").GetString());
                Assert.Matches(@"^(rollout 1 of 'v' on 'fleet=r' is running: abort it or let it end first|a rollout of 'v' on 'fleet=r' is being started: a rollout of 'v' on 'fleet=r' cannot start beside it)",
                    error.GetProperty("message").GetString());
                Assert.Equal(7, json.RootElement.GetProperty("exit_code").GetInt32());
            }
            var done = await WaitForStateAsync(system, "done");
            // One rollout only, and every board runs the version of the start that was taken.
            Assert.Contains("rollout 1 of v version 2 on 'fleet=r': done, wave 2 of 2, 0 failed (at most 0)", done.Stdout, StringComparison.Ordinal);
            Assert.Equal(10, await RunningVersionAsync(system, results[0].ExitCode == 0 ? 2 : 3));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Issue 31, bug 4: an abort asked over HTTP whose client hung up in the middle of the rollback
    /// stopped there (the request's token), left the rollout "running", and the next gateway start
    /// carried the aborted rollout on. The abort now runs to its end and stays aborted.
    /// </summary>
    [Fact]
    public async Task An_abort_whose_client_hangs_up_still_puts_every_board_back_and_stays_aborted_after_a_restart()
    {
        // r1x, in an emulator of its own, is second in wave 2 (r1, r1x, r2...): stopped, it holds the abort's rollback up.
        var (system, boards, slow, dir) = await StartWithAsync("r1x", "--http", "127.0.0.1:0");
        await using var _ = system;
        await using var __ = boards;
        await using var ___ = slow!;
        try
        {
            CliAssert.Exit(0, await system.CliAsync("--selector", "fleet=r", "rollout", "start", "--module-id", "v", "--source", Source(dir, 2, trapping: false),
                "--check", "self_test", "--waves", "1,100%", "--soak", "20s"));
            // r1x deployed and checked (its self_test job ended OK): it soaks, and nothing asks it anything until the abort.
            await LinkFaultTests.EventuallyAsync(async () => Regex.IsMatch((await system.CliAsync("--device", "r1x", "jobs")).Stdout, @"self_test.*\bOK\b"), TimeSpan.FromSeconds(30));
            await slow!.SignalAsync("STOP");

            using var http = new HttpClient { BaseAddress = new Uri($"http://{system.Http}/") };
            using var hangUp = new CancellationTokenSource();
            var abort = http.PostAsync(new Uri("api/rollout", UriKind.Relative), new StringContent("{\"action\":\"abort\"}", System.Text.Encoding.UTF8, "application/json"), hangUp.Token);
            // The observed point: r1 is back and the rollback waits on r1x. Then the client goes, and r1x answers again.
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (!Regex.IsMatch(await HttpStatusAsync(http), "\"device\":\"r1\",\"wave\":2,\"outcome\":\"rolled-back\""))
            {
                Assert.True(DateTime.UtcNow < deadline, "r1 was not put back within 20 s of the abort");
                await Task.Delay(20);
            }
            await hangUp.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abort);
            await slow.SignalAsync("CONT");

            var aborted = await WaitForStateAsync(system, "aborted");
            Assert.Contains("rollout 1 of v version 2 on 'fleet=r': aborted, wave 2 of 2", aborted.Stdout, StringComparison.Ordinal);
            Assert.Equal(9, Regex.Count(aborted.Stdout, @"(?m)^  r\w+\s+wave [12] rolled-back \(put back its previous version\)$"));
            Assert.Equal(10, await RunningVersionAsync(system, 1));

            // A restart does not bring the aborted rollout back.
            await system.KillGatewayAsync();
            system.StartGateway();
            var after = await system.CliAsync("rollout", "status");
            Assert.Contains("rollout 1 of v version 2 on 'fleet=r': aborted, wave 2 of 2", after.Stdout, StringComparison.Ordinal);
            Assert.Equal(10, await RunningVersionAsync(system, 1));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Issue 31, bug 4: a gateway stopped in the middle of an abort finishes the abort when it starts
    /// again ("aborting" is written before the first board is put back); it used to carry the
    /// aborted rollout on.
    /// </summary>
    [Fact]
    public async Task A_gateway_killed_in_the_middle_of_an_abort_finishes_the_abort_when_it_starts_again()
    {
        var (system, boards, slow, dir) = await StartWithAsync("r1x");
        await using var _ = system;
        await using var __ = boards;
        await using var ___ = slow!;
        try
        {
            CliAssert.Exit(0, await system.CliAsync("--selector", "fleet=r", "rollout", "start", "--module-id", "v", "--source", Source(dir, 2, trapping: false),
                "--check", "self_test", "--waves", "1,100%", "--soak", "20s"));
            await LinkFaultTests.EventuallyAsync(async () => Regex.IsMatch((await system.CliAsync("--device", "r1x", "jobs")).Stdout, @"self_test.*\bOK\b"), TimeSpan.FromSeconds(30));
            await slow!.SignalAsync("STOP");
            // The abort puts r0 and r1 back, then waits on r1x: the gateway is killed there.
            var abort = system.CliAsync("rollout", "abort");
            await LinkFaultTests.EventuallyAsync(async () => Regex.IsMatch((await system.CliAsync("rollout", "status")).Stdout,
                @"(?s): aborting, wave 2 of 2.*\n  r1\s+wave 2 rolled-back"), TimeSpan.FromSeconds(20));
            await system.KillGatewayAsync();
            Assert.NotEqual(0, (await abort).ExitCode);
            await slow.SignalAsync("CONT");

            system.StartGateway();
            var aborted = await WaitForStateAsync(system, "aborted");
            Assert.Contains("rollout 1 of v version 2 on 'fleet=r': aborted, wave 2 of 2, 0 failed (at most 0): aborted by request", aborted.Stdout, StringComparison.Ordinal);
            Assert.Equal(9, Regex.Count(aborted.Stdout, @"(?m)^  r\w+\s+wave [12] rolled-back \(put back its previous version\)$"));
            Assert.Equal(2, Regex.Count(aborted.Stdout, @"(?m)^  r[89]\s+wave 2 pending$"));
            Assert.Equal(10, await RunningVersionAsync(system, 1));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<string> HttpStatusAsync(HttpClient http)
    {
        using var response = await http.PostAsync(new Uri("api/rollout", UriKind.Relative), new StringContent("{\"action\":\"status\"}", System.Text.Encoding.UTF8, "application/json"));
        return await response.Content.ReadAsStringAsync();
    }

    [Theory]
    [InlineData(new[] { "--selector", "fleet=r", "rollout", "start", "--module-id", "v", "--source", "SRC", "--check", "self_test", "--waves", "1,50%" }, "waves '1,50%' reach 5 of the 10 device(s)")]
    [InlineData(new[] { "--selector", "fleet=r", "rollout", "start", "--module-id", "v", "--source", "SRC", "--check", "self_test", "--waves", "1,x" }, "wave 'x' is not a count")]
    [InlineData(new[] { "--selector", "fleet=zz", "rollout", "start", "--module-id", "v", "--source", "SRC", "--check", "self_test" }, "selector 'fleet=zz' matches none")]
    [InlineData(new[] { "--selector", "fleet=r", "rollout", "start", "--module-id", "v", "--source", "SRC", "--check", "self test" }, "check 'self test' is not func[:args]")]
    [InlineData(new[] { "--selector", "fleet=r", "rollout", "start", "--module-id", "v", "--source", "SRC", "--check", "self_test", "--soak", "5 minutes" }, "--soak 5 minutes is not a duration")]
    [InlineData(new[] { "rollout", "resume" }, "there is no rollout to resume")]
    public async Task A_wrong_rollout_is_refused_before_any_board_is_touched(string[] args, string message)
    {
        var (system, boards, dir) = await StartAsync();
        await using var _ = system;
        await using var __ = boards;
        try
        {
            var source = Source(dir, 2, trapping: false);
            var result = await system.CliAsync([.. args.Select(a => a == "SRC" ? source : a)]);
            CliAssert.Exit(2, result);
            Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
            Assert.Equal(10, await RunningVersionAsync(system, 1));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_signed_rollout_reaches_boards_that_take_only_signed_modules_and_its_signature_covers_only_its_selector()
    {
        var dir = Directory.CreateTempSubdirectory("wasmorch-signed-rollout-").FullName;
        var boards = RunningProcess.StartCli(["emulate", "--stop-grace-ms", "300", "--board", "s0=0", "--board", "s1=0", "--board", "s2=0", "--board", "t0=0"]);
        await using var _ = boards;
        try
        {
            var key = Path.Combine(dir, "key");
            var other = Path.Combine(dir, "other");
            CliAssert.Exit(0, await CliRunner.RunAsync("127.0.0.1:1", "keygen", "--out", key));
            CliAssert.Exit(0, await CliRunner.RunAsync("127.0.0.1:1", "keygen", "--out", other));
            var config = $"[signing]\ntrusted_keys = [\"{(await File.ReadAllTextAsync(key + ".pub")).Trim()}\"]\n" + string.Concat(SignedBoards.Select(b =>
                $"[devices.{b}]\nendpoint = \"tcp://127.0.0.1:{boards.WaitForLine($@"board {b} listening on tcp://127\.0\.0\.1:(\d+)").Groups[1].Value}\"\nrequire_signed = true\nlabels = {{ fleet = \"{b[0]}\" }}\n"));
            await File.WriteAllTextAsync(Path.Combine(dir, "wasmorch.toml"), config);
            await using var system = new SystemUnderTest();
            system.GatewayArgs.AddRange(["--config", Path.Combine(dir, "wasmorch.toml")]);
            system.StartGateway();
            var wasm = new Dictionary<int, string>();
            foreach (var (version, trapping) in new[] { (1, false), (2, false), (3, true) })
            {
                wasm[version] = Path.Combine(dir, $"v{version}.wasm");
                CliAssert.Exit(0, await CliRunner.RunAsync("127.0.0.1:1", "build", "--source", Source(dir, version, trapping), "--output", wasm[version]));
            }
            CliAssert.Exit(0, await system.CliAsync("--selector", "fleet=s", "deploy", "--module-id", "v", "--file", wasm[1], "--sign-key", key));

            // Unsigned, or signed by a key the gateway does not trust: refused before any board is touched.
            string[] start = ["--selector", "fleet=s", "rollout", "start", "--module-id", "v", "--check", "self_test", "--waves", "1,100%"];
            var unsigned = await system.CliAsync([.. start, "--wasm", wasm[2]]);
            CliAssert.Exit(7, unsigned);
            Assert.Contains("UNSIGNED: device 's0' takes only signed modules", unsigned.Stderr, StringComparison.Ordinal);
            var untrusted = await system.CliAsync([.. start, "--wasm", wasm[2], "--sign-key", other]);
            CliAssert.Exit(7, untrusted);
            Assert.Contains("BAD_SIGNATURE: the signature does not match the content under any trusted key", untrusted.Stderr, StringComparison.Ordinal);
            var source = await system.CliAsync([.. start, "--source", Source(dir, 2, trapping: false), "--sign-key", key]);
            CliAssert.Exit(2, source);
            Assert.Contains("a signed rollout takes a module file (--wasm)", source.Stderr, StringComparison.Ordinal);
            Assert.Equal(3, await RunningVersionOfAsync(system, "fleet=s", 1));

            // Signed once for the selector: every board takes it.
            CliAssert.Exit(0, await system.CliAsync([.. start, "--wasm", wasm[2], "--sign-key", key]));
            var done = await WaitForStateAsync(system, "done");
            Assert.Equal(3, Regex.Count(done.Stdout, @"(?m)^  s\d\s+wave [12] ok$"));
            Assert.Equal(3, await RunningVersionOfAsync(system, "fleet=s", 2));

            // A signed version whose check traps: the canary is put back to version 2, which it takes (it was signed when deployed).
            CliAssert.Exit(0, await system.CliAsync([.. start, "--wasm", wasm[3], "--sign-key", key]));
            var rolledBack = await WaitForStateAsync(system, "rolled-back");
            Assert.Matches(@"(?m)^  s0\s+wave 1 rolled-back \(failed, then put back its previous version\)$", rolledBack.Stdout);
            Assert.Equal(3, await RunningVersionOfAsync(system, "fleet=s", 2));

            // The rollout's signature, replayed in a deploy to a board its selector does not match, is refused.
            var statement = Wasmorch.Protocol.HostApi.DeployStatement.For(
                new Wasmorch.Protocol.HostApi.HostRequest { Op = "rollout", ModuleId = "v", Selector = "fleet=s" }, await File.ReadAllBytesAsync(wasm[2]));
            var signature = Wasmorch.Gateway.Signing.ModuleSignatures.Sign((await File.ReadAllTextAsync(key)).Trim(), statement);
            var replay = await system.HostExchangeAsync(System.Text.Encoding.UTF8.GetBytes(
                $"{{\"op\":\"deploy\",\"device\":\"t0\",\"module_id\":\"v\",\"module\":\"{Convert.ToBase64String(await File.ReadAllBytesAsync(wasm[2]))}\",\"selector\":\"fleet=s\",\"signature\":\"{signature}\"}}"));
            using (var answer = System.Text.Json.JsonDocument.Parse(replay))
            {
                var error = answer.RootElement.GetProperty("error");
                Assert.Equal("BAD_SIGNATURE", error.GetProperty("code").GetString());
                Assert.Equal("the rollout's signature covers the devices 'fleet=s' selects, and device 't0' is not one of them (by its own labels)", error.GetProperty("message").GetString());
            }
            Assert.Contains("modules=-", (await system.CliAsync("--device", "t0", "status")).Stdout, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static readonly string[] SignedBoards = ["s0", "s1", "s2", "t0"];

    private static async Task<int> RunningVersionOfAsync(SystemUnderTest system, string selector, int version)
    {
        var run = await system.CliAsync("--selector", selector, "start", "--module-id", "v", "--func-name", "version", "--wait-result");
        return Regex.Count(run.Stdout, $@"(?m)^\w+: v\.version job=\d+ status=OK value={version} ");
    }

    [Theory]
    [InlineData("2,1", "wave '1' is smaller than wave '2' before it in '2,1': waves grow")]
    [InlineData("100%,50%", "wave '50%' is smaller than wave '100%' before it in '100%,50%': waves grow")]
    public async Task Waves_that_shrink_are_a_usage_error_of_the_cli(string waves, string error)
    {
        var result = await CliRunner.RunAsync("127.0.0.1:1", "--selector", "fleet=r", "rollout", "start", "--module-id", "v",
            "--wasm", RepoPaths.Module("math_ops.c"), "--check", "self_test", "--waves", waves);
        CliAssert.Exit(2, result);
        Assert.Contains($"error: --waves: {error}", result.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2,1", "wave '1' is smaller than wave '2' before it in '2,1': waves grow")]
    [InlineData("100%,50%", "wave '50%' is smaller than wave '100%' before it in '100%,50%': waves grow")]
    [InlineData("10,50%", "wave '50%' (5 of the 10 device(s)) is smaller than wave '10' before it in '10,50%': waves grow")]
    public async Task Waves_that_shrink_are_refused_by_the_gateway_with_bad_request(string waves, string error)
    {
        await using var system = new SystemUnderTest();
        var dir = Directory.CreateTempSubdirectory("wasmorch-waves-").FullName;
        try
        {
            // Ten devices the selector matches by their configured labels; none needs to answer for the waves to be checked.
            await File.WriteAllTextAsync(Path.Combine(dir, "wasmorch.toml"), string.Concat(Enumerable.Range(0, 10).Select(i =>
                $"[devices.r{i}]\nendpoint = \"tcp://127.0.0.1:1\"\nlabels = {{ fleet = \"r\" }}\n")));
            system.GatewayArgs.AddRange(["--config", Path.Combine(dir, "wasmorch.toml")]);
            system.StartGateway();
            var request = new Wasmorch.Protocol.HostApi.HostRequest
            {
                Op = Wasmorch.Protocol.HostApi.HostOps.Rollout, Action = "start", Selector = "fleet=r", ModuleId = "v",
                Module = Convert.ToBase64String("\0asm\u0001\0\0\0"u8.ToArray()), Check = "self_test", Waves = waves,
            };
            var answer = System.Text.Json.JsonDocument.Parse(await system.HostExchangeAsync(Wasmorch.Protocol.HostApi.HostJson.Serialize(request))).RootElement;
            Assert.False(answer.GetProperty("ok").GetBoolean(), answer.ToString());
            Assert.Equal("BAD_REQUEST", answer.GetProperty("error").GetProperty("code").GetString());
            Assert.Contains(error, answer.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
