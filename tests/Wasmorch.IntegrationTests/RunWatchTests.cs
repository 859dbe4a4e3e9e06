using System.Text.Json;
using System.Text.RegularExpressions;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Issue 19's loop (docs/run.md): `run` and `watch` as processes against a real gateway and an
/// emulated board: the value and the latency breakdown printed, an unchanged module not uploaded
/// again, the source's own headers compiled in and watched, a compile error leaving the previous
/// module on the board, a running job of the loop's module replaced, Ctrl-C leaving the board idle.
/// </summary>
public sealed class RunWatchTests
{
    private static SystemUnderTest Start()
    {
        var system = new SystemUnderTest();
        system.StartBoard("b1", 0);
        system.StartGateway();
        return system;
    }

    [Fact]
    public async Task Run_prints_the_value_and_its_latency_breakdown_and_a_second_run_neither_compiles_nor_uploads()
    {
        await using var system = Start();
        // A source no test compiled before (math_ops.c with a comment of its own): the first run compiles.
        var dir = Directory.CreateTempSubdirectory("wasmorch-run-").FullName;
        var source = Path.Combine(dir, "math_ops.c");
        await File.WriteAllTextAsync(source, await File.ReadAllTextAsync(RepoPaths.Module("math_ops.c")) + $"// {Guid.NewGuid()}\n");
        var first = await system.CliAsync("--device", "b1", "run", source, "add", "10", "15");
        CliAssert.Exit(0, first);
        Assert.Matches(@"(?m)^b1: math_ops\.add job=\d+ status=OK value=25 \(i32\)", first.Stdout);
        Assert.Matches(@"(?m)^e2e_latency_ms=[\d.]+ deploy_ms=[\d.]+ compile_ms=[\d.]+ transfer_ms=[\d.]+ verify_ms=[\d.]+ start_ms=[\d.]+ device_ms=[\d.]+$", first.Stdout);

        var second = await system.CliAsync("--device", "b1", "run", source, "sub", "--", "10", "-15");
        CliAssert.Exit(0, second);
        Assert.Matches(@"(?m)^b1: math_ops\.sub job=\d+ status=OK value=25 \(i32\)", second.Stdout);
        Assert.Matches(@"(?m)^e2e_latency_ms=[\d.]+ deploy_ms=[\d.]+ compile_ms=[\d.]+ \(cache hit\) upload=skipped start_ms=", second.Stdout);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Run_stops_nothing_but_its_own_module_a_job_of_another_module_makes_it_fail_with_busy()
    {
        await using var system = Start();
        CliAssert.Exit(0, await system.CliAsync("--device", "b1", "build-and-deploy", "--module-id", "blink", "--source", RepoPaths.Module("toggle_forever.c")));
        CliAssert.Exit(0, await system.CliAsync("--device", "b1", "start", "--module-id", "blink", "--func-name", "run"));

        var run = await system.CliAsync("--device", "b1", "run", RepoPaths.Module("math_ops.c"), "add", "1", "2");
        CliAssert.Exit(7, run);
        Assert.Contains("b1: error: BUSY", run.Stderr, StringComparison.Ordinal);
        var status = await system.CliAsync("--device", "b1", "status");
        Assert.Matches(@"state=RUNNING module=blink", status.Stdout);
    }

    [Fact]
    public async Task Watch_runs_on_every_save_of_the_source_or_its_header_keeps_the_old_module_on_a_compile_error_and_leaves_the_board_idle_on_ctrl_c()
    {
        await using var system = Start();
        var dir = Directory.CreateTempSubdirectory("wasmorch-watch-").FullName;
        try
        {
            var source = Path.Combine(dir, "loop.c");
            var header = Path.Combine(dir, "step.h");
            await File.WriteAllTextAsync(header, "#define STEP 1\n");
            await File.WriteAllTextAsync(source, """
                #include "wasmorch.h"
                #include "step.h"
                WASMORCH_EXPORT("next") int32_t next(int32_t x) { return x + STEP; }
                WASMORCH_EXPORT("spin") int32_t spin(void) { while (!should_stop()) { delay_ms(10); } return 0; }
                """);
            await using var watch = RunningProcess.StartCli("--gateway", system.Gateway, "--device", "b1", "watch", source, "next", "41");
            watch.WaitForLine(@"^watching loop\.c and 1 header\(s\) it includes; Ctrl-C stops$");
            watch.WaitForLine(@"^b1: loop\.next job=\d+ status=OK value=42 ", TimeSpan.FromSeconds(60));

            // A header is part of the source: its save runs the loop again.
            await File.WriteAllTextAsync(header, "#define STEP 2\n");
            watch.WaitForLine(@"^-- [\d:.]+ step\.h changed$");
            watch.WaitForLine(@"^b1: loop\.next job=\d+ status=OK value=43 ", TimeSpan.FromSeconds(60));
            watch.WaitForLine(@"^e2e_latency_ms=[\d.]+ save_to_result_ms=[\d.]+ deploy_ms=");
            var before = (await system.CliAsync("devices")).Stdout;

            // A compile error is shown with clang's diagnostics, and the board keeps the module it has.
            await File.WriteAllTextAsync(header, "#define STEP 2\nint oops(void) { return }\n");
            watch.WaitForLine(@"^-- [\d:.]+ step\.h changed$");
            await LinkFaultTests.EventuallyAsync(() => Task.FromResult(watch.Errors.Contains("b1: error: COMPILE_ERROR", StringComparison.Ordinal)), TimeSpan.FromSeconds(60));
            Assert.Matches(@"step\.h:2:\d+: error: ", watch.Errors);
            Assert.Equal(CrcOf(before, "loop"), CrcOf((await system.CliAsync("devices")).Stdout, "loop"));

            await File.WriteAllTextAsync(header, "#define STEP 3\n");
            watch.WaitForLine(@"^b1: loop\.next job=\d+ status=OK value=44 ", TimeSpan.FromSeconds(60));
            await watch.InterruptAsync();
            watch.WaitForLine(@"^b1: loop not running; the board is idle with it loaded$");
            Assert.Equal(0, await watch.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Watch_replaces_its_own_running_job_on_a_save_and_stops_it_on_ctrl_c()
    {
        await using var system = Start();
        var dir = Directory.CreateTempSubdirectory("wasmorch-watch-").FullName;
        try
        {
            var source = Path.Combine(dir, "spin.c");
            static string Spin(int period) => $$"""
                #include "wasmorch.h"
                WASMORCH_EXPORT("spin") int32_t spin(void) { while (!should_stop()) { delay_ms({{period}}); } return 0; }
                """;
            await File.WriteAllTextAsync(source, Spin(10));
            await using var watch = RunningProcess.StartCli("--gateway", system.Gateway, "--device", "b1", "watch", source, "spin");
            watch.WaitForLine("^watching spin.c; Ctrl-C stops$");
            await LinkFaultTests.EventuallyAsync(async () => Regex.IsMatch((await system.CliAsync("--device", "b1", "status")).Stdout, "state=RUNNING module=spin"), TimeSpan.FromSeconds(60));
            var firstJob = JobOf((await system.CliAsync("--device", "b1", "status")).Stdout);

            // The first job never ends by itself: the save gives up waiting, stops it and runs the new module.
            await File.WriteAllTextAsync(source, Spin(20));
            await LinkFaultTests.EventuallyAsync(async () => JobOf((await system.CliAsync("--device", "b1", "status")).Stdout) is { } job && job != firstJob, TimeSpan.FromSeconds(60));

            await watch.InterruptAsync();
            watch.WaitForLine(@"^b1: spin stopped; the board is idle with it loaded$");
            Assert.Equal(0, await watch.WaitForExitAsync(TimeSpan.FromSeconds(20)));
            Assert.Matches("state=IDLE", (await system.CliAsync("--device", "b1", "status")).Stdout);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Issue 34, item 8: a function that does not return was a silent wait. Once it has run a second
    /// the pass names its job and prints its LOG lines as they come; a quick one prints as before.
    /// </summary>
    [Fact]
    public async Task Watch_names_a_job_that_does_not_return_and_prints_its_log_lines_as_they_come()
    {
        await using var system = Start();
        var dir = Directory.CreateTempSubdirectory("wasmorch-watch-").FullName;
        try
        {
            var source = Path.Combine(dir, "tick.c");
            await File.WriteAllTextAsync(source, """
                #include "wasmorch.h"
                WASMORCH_EXPORT("tick") int32_t tick(void) { for (int32_t i = 1; ; i++) { log_i32(i); if (delay_ms(100)) { return i; } } }
                WASMORCH_EXPORT("quick") int32_t quick(void) { log_i32(7); return 7; }
                """);
            await using var watch = RunningProcess.StartCli("--gateway", system.Gateway, "--device", "b1", "watch", source, "tick");
            var job = watch.WaitForLine(@"^b1: started job (\d+) \(tick\.tick\), waiting for its result; its log lines follow$", TimeSpan.FromSeconds(60)).Groups[1].Value;
            Assert.Equal(job, Regex.Match((await system.CliAsync("--device", "b1", "status")).Stdout, @"state=RUNNING module=tick func=tick job=(\d+)").Groups[1].Value);
            // Its lines from the start (logged before the notice) and the new ones, in order.
            watch.WaitForLine($@"^\S+ b1 tick job={job}: 1$");
            watch.WaitForLine($@"^\S+ b1 tick job={job}: 2$");
            watch.WaitForLine($@"^\S+ b1 tick job={job}: 15$", TimeSpan.FromSeconds(30));
            await watch.InterruptAsync();
            watch.WaitForLine(@"^b1: tick stopped; the board is idle with it loaded$");
            Assert.Equal(0, await watch.WaitForExitAsync(TimeSpan.FromSeconds(20)));

            // With --json: a typed notice, each line as the gateway's log event, and the pass's own object last.
            var run = await system.CliAsync("--json", "--device", "b1", "run", source, "tick", "--timeout-ms", "2500");
            CliAssert.Exit(6, run);
            var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            var waiting = lines[0];
            Assert.Equal("waiting", waiting.GetProperty("event").GetString());
            Assert.Equal("b1", waiting.GetProperty("device").GetString());
            var runJob = waiting.GetProperty("job").GetInt64();
            var logged = lines.Skip(1).SkipLast(1).Select(l => l.GetProperty("log")).ToList();
            Assert.All(logged, l => Assert.Equal(runJob, l.GetProperty("job").GetInt64()));
            Assert.Equal(Enumerable.Range(1, logged.Count).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), logged.Select(l => l.GetProperty("message").GetString()));
            Assert.True(logged.Count >= 10, $"{logged.Count} log lines in 2.5 s");
            Assert.Equal(6, lines[^1].GetProperty("exit_code").GetInt32());
            CliAssert.Exit(0, await system.CliAsync("--device", "b1", "stop", "--module-id", "tick"));

            // A function that returns at once: its result, and no notice.
            await LinkFaultTests.EventuallyAsync(async () => Regex.IsMatch((await system.CliAsync("--device", "b1", "status")).Stdout, "state=IDLE"), TimeSpan.FromSeconds(10));
            var quick = await system.CliAsync("--device", "b1", "run", source, "quick");
            CliAssert.Exit(0, quick);
            Assert.Matches(@"^b1: tick\.quick job=\d+ status=OK value=7 \(i32\) elapsed_us=\d+\ne2e_latency_ms=", quick.Stdout);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Issue 34, item 8: the compile error's first line was the error line and again the diagnostics' first.</summary>
    [Fact]
    public async Task A_compile_error_prints_each_diagnostic_line_once()
    {
        await using var system = Start();
        var dir = Directory.CreateTempSubdirectory("wasmorch-run-").FullName;
        try
        {
            var source = Path.Combine(dir, "bad.c");
            await File.WriteAllTextAsync(source, "#include \"wasmorch.h\"\nWASMORCH_EXPORT(\"f\") int32_t f(void) { return undefined_name; }\n");
            var run = await system.CliAsync("--device", "b1", "run", source, "f");
            CliAssert.Exit(5, run);
            Assert.StartsWith("b1: error: COMPILE_ERROR:\nbad.c:2:", run.Stderr, StringComparison.Ordinal);
            Assert.Equal(1, Regex.Count(run.Stderr, "error: use of undeclared identifier 'undefined_name'"));

            var deploy = await system.CliAsync("--device", "b1", "build-and-deploy", "--module-id", "bad", "--source", source);
            CliAssert.Exit(5, deploy);
            Assert.StartsWith("error: COMPILE_ERROR:\nbad.c:2:", deploy.Stderr, StringComparison.Ordinal);
            Assert.Equal(1, Regex.Count(deploy.Stderr, "error: use of undeclared identifier 'undefined_name'"));
            // --json keeps both typed: the summary in message, clang's output in details.
            var json = await system.CliAsync("--json", "--device", "b1", "build-and-deploy", "--module-id", "bad", "--source", source);
            CliAssert.Exit(5, json);
            var error = JsonDocument.Parse(json.Stdout).RootElement.GetProperty("error");
            Assert.StartsWith("bad.c:2:", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Contains(error.GetProperty("message").GetString()!, error.GetProperty("details").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Build_strips_every_custom_section_unless_names_are_kept_and_reports_both_sizes()
    {
        await using var system = new SystemUnderTest();
        var dir = Directory.CreateTempSubdirectory("wasmorch-strip-").FullName;
        try
        {
            var stripped = await system.CliAsync("build", "--source", RepoPaths.Module("math_ops.c"), "-o", Path.Combine(dir, "s.wasm"));
            CliAssert.Exit(0, stripped);
            var sizes = Regex.Match(stripped.Stdout, @"(?m)^size: (\d+) bytes as linked, (\d+) stripped \(every custom section\)$");
            Assert.True(sizes.Success, stripped.Stdout);
            var strippedBytes = await File.ReadAllBytesAsync(Path.Combine(dir, "s.wasm"));
            Assert.Equal(int.Parse(sizes.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), strippedBytes.Length);
            Assert.True(strippedBytes.Length < int.Parse(sizes.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(strippedBytes, Wasmorch.Protocol.Modules.WasmBinary.StripCustomSections(strippedBytes, keepNames: false));

            var named = await system.CliAsync("build", "--source", RepoPaths.Module("math_ops.c"), "-o", Path.Combine(dir, "n.wasm"), "--keep-names");
            CliAssert.Exit(0, named);
            Assert.Matches(@"(?m)^size: \d+ bytes as linked, \d+ stripped \(custom sections but name\)$", named.Stdout);
            var namedBytes = await File.ReadAllBytesAsync(Path.Combine(dir, "n.wasm"));
            Assert.Equal(strippedBytes, Wasmorch.Protocol.Modules.WasmBinary.StripCustomSections(namedBytes, keepNames: false));
            Assert.True(namedBytes.Length > strippedBytes.Length);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// wasm-opt runs where the build runs: `build` locally and `run` on the gateway give the same
    /// bytes, smaller than clang's (at -O0, where binaryen has work to do), and it computes the same.
    /// </summary>
    [Fact]
    public async Task With_wasm_opt_build_reports_the_optimized_size_and_run_deploys_those_same_bytes()
    {
        await using var system = Start();
        var dir = Directory.CreateTempSubdirectory("wasmorch-wasm-opt-").FullName;
        try
        {
            var built = await system.CliAsync("build", "--source", RepoPaths.Module("math_ops.c"), "-o", Path.Combine(dir, "o.wasm"), "--opt-level", "0", "--wasm-opt");
            CliAssert.Exit(0, built);
            var sizes = Regex.Match(built.Stdout, @"(?m)^size: (\d+) bytes as linked, (\d+) after wasm-opt -Oz, (\d+) stripped \(every custom section\)$");
            Assert.True(sizes.Success, built.Stdout);
            int Size(int group) => int.Parse(sizes.Groups[group].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(Size(2) < Size(1), built.Stdout);
            Assert.Equal(Size(3), (await File.ReadAllBytesAsync(Path.Combine(dir, "o.wasm"))).Length);
            var sha256 = Regex.Match(built.Stdout, "sha256=([0-9a-f]{64})").Groups[1].Value;

            var run = await system.CliAsync("--device", "b1", "run", RepoPaths.Module("math_ops.c"), "add", "10", "15", "--opt-level", "0", "--wasm-opt");
            CliAssert.Exit(0, run);
            Assert.Matches(@"(?m)^b1: math_ops\.add job=\d+ status=OK value=25 \(i32\)", run.Stdout);
            Assert.Matches($@"(?m)^\s+math_ops\s+crc32=\w+ sha256={sha256}", (await system.CliAsync("devices")).Stdout);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string CrcOf(string devices, string moduleId) => Regex.Match(devices, $@"(?m)^\s+{moduleId}\s+crc32=(\w+)").Groups[1].Value;

    private static long? JobOf(string status) => Regex.Match(status, @"state=RUNNING module=spin func=spin job=(\d+)") is { Success: true } m ? long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : null;
}
