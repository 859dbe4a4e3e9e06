using System.Text.Json;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>The seed's commands end to end: CLI process → gateway process → emulator processes.</summary>
public sealed class SeedCommandsTests : IAsyncLifetime
{
    private SystemUnderTest _system = null!;

    public async Task InitializeAsync() => _system = await SystemUnderTest.StartAsync("nucleo", "disco");

    public async Task DisposeAsync() => await _system.DisposeAsync();

    private async Task<CliResult> Cli(params string[] args) => await _system.CliAsync(args);

    private async Task AssertOtherBoardWorks()
    {
        var status = await Cli("--device", "disco", "status");
        CliAssert.Exit(0, status);
        Assert.Contains("state=IDLE", status.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Build_and_deploy_then_start_add_prints_25_and_latency()
    {
        var deploy = await Cli("--device", "nucleo", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c"), "--mode", "wasm");
        CliAssert.Exit(0, deploy);
        Assert.Contains("deployed math_ops", deploy.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"e2e_latency_ms=\d+\.\d+ .*compile_ms=", deploy.Stdout);

        var start = await Cli("--device", "nucleo", "start", "--module-id", "math_ops", "--func-name", "add", "--func-args", "a=10,b=15", "--wait-result");
        CliAssert.Exit(0, start);
        Assert.Contains("status=OK value=25", start.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"e2e_latency_ms=\d+\.\d+", start.Stdout);

        var json = await Cli("--device", "nucleo", "--json", "start", "--module-id", "math_ops", "--func-name", "fib", "--func-args", "n=10", "--wait-result");
        CliAssert.Exit(0, json);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.Equal(55, doc.RootElement.GetProperty("value").GetInt64());
        Assert.True(doc.RootElement.GetProperty("e2e_latency_ms").GetDouble() > 0);
        Assert.True(doc.RootElement.GetProperty("timing").GetProperty("gateway_ms").GetDouble() > 0);

        var status = await Cli("--device", "nucleo", "status");
        CliAssert.Exit(0, status);
        Assert.Contains("modules=math_ops", status.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_uploads_a_prebuilt_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"math_ops-{Guid.NewGuid():n}.wasm");
        await File.WriteAllBytesAsync(path, ModuleBuilder.Build("math_ops.c"));
        try
        {
            var deploy = await Cli("--device", "disco", "deploy", "--module-id", "math_ops", "--file", path);
            CliAssert.Exit(0, deploy);
            var start = await Cli("--device", "disco", "start", "--module-id", "math_ops", "--func-name", "mul", "--func-args", "6,7", "--wait-result");
            CliAssert.Exit(0, start);
            Assert.Contains("value=42", start.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Toggle_forever_runs_toggles_and_stops_promptly()
    {
        CliAssert.Exit(0, await Cli("--device", "nucleo", "build-and-deploy", "--module-id", "toggle_forever", "--source", RepoPaths.Module("toggle_forever.c")));
        // The job's RESULT is awaited by a CLI process of its own, as a user in a second terminal would.
        await using var waiter = RunningProcess.StartCli("--gateway", _system.Gateway, "--device", "nucleo", "start",
            "--module-id", "toggle_forever", "--func-name", "toggle_forever", "--func-args", "pin=0,period_ms=10", "--wait-result");

        var first = await WaitForStatus("state=RUNNING");
        var writesBefore = GpioWrites(first.Stdout);
        var second = await WaitForStatus("state=RUNNING", previousWrites: writesBefore);
        Assert.True(GpioWrites(second.Stdout) > writesBefore, "GPIO should be toggling\n" + second);

        var busy = await Cli("--device", "nucleo", "start", "--module-id", "toggle_forever", "--func-name", "run");
        CliAssert.Exit(7, busy);
        Assert.Contains("BUSY", busy.Stderr, StringComparison.Ordinal);
        await AssertOtherBoardWorks();

        var stop = await Cli("--device", "nucleo", "stop", "--module-id", "toggle_forever");
        CliAssert.Exit(0, stop);
        Assert.Contains("status=PENDING", stop.Stdout, StringComparison.Ordinal);

        var exit = await waiter.WaitForExitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(8, exit);
        Assert.Contains("status=STOPPED", waiter.Output, StringComparison.Ordinal);
        await WaitForStatus("state=IDLE");
    }

    private async Task<CliResult> WaitForStatus(string expected, long previousWrites = -1)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var status = await Cli("--device", "nucleo", "status");
            if (status.Stdout.Contains(expected, StringComparison.Ordinal) && GpioWrites(status.Stdout) > previousWrites)
            {
                return status;
            }
        }
        throw new Xunit.Sdk.XunitException($"status never showed {expected}\n{_system.Logs}");
    }

    private static long GpioWrites(string status)
    {
        var match = System.Text.RegularExpressions.Regex.Match(status, @"gpio_writes=(\d+)");
        return match.Success ? long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : -1;
    }

    [Fact]
    public async Task Agent_errors_are_precise_and_leave_the_other_board_working()
    {
        var noModule = await Cli("--device", "nucleo", "start", "--module-id", "ghost", "--func-name", "add", "--wait-result");
        CliAssert.Exit(7, noModule);
        Assert.Contains("NO_MODULE", noModule.Stderr, StringComparison.Ordinal);
        await AssertOtherBoardWorks();

        CliAssert.Exit(0, await Cli("--device", "nucleo", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c")));
        var noFunc = await Cli("--device", "nucleo", "start", "--module-id", "math_ops", "--func-name", "sqrt", "--wait-result");
        CliAssert.Exit(7, noFunc);
        Assert.Contains("NO_FUNC", noFunc.Stderr, StringComparison.Ordinal);
        Assert.Contains("exports: add", noFunc.Stderr, StringComparison.Ordinal);

        var badArgs = await Cli("--device", "nucleo", "start", "--module-id", "math_ops", "--func-name", "add", "--func-args", "a=1", "--wait-result");
        CliAssert.Exit(7, badArgs);
        Assert.Contains("BAD_ARGS", badArgs.Stderr, StringComparison.Ordinal);

        var trap = await Cli("--device", "nucleo", "start", "--module-id", "math_ops", "--func-name", "div", "--func-args", "1,0", "--wait-result");
        CliAssert.Exit(8, trap);
        Assert.Contains("TRAP", trap.Stderr, StringComparison.Ordinal);
        Assert.Contains("integer divide by zero", trap.Stderr, StringComparison.Ordinal);

        var unknown = await Cli("--device", "atlantis", "status");
        CliAssert.Exit(4, unknown);
        Assert.Contains("UNKNOWN_DEVICE", unknown.Stderr, StringComparison.Ordinal);
        Assert.Contains("disco, nucleo", unknown.Stderr, StringComparison.Ordinal);
        await AssertOtherBoardWorks();
    }

    [Fact]
    public async Task Compile_error_shows_clangs_message_for_the_users_file()
    {
        var source = Path.Combine(Path.GetTempPath(), $"broken_{Guid.NewGuid():n}.c");
        await File.WriteAllTextAsync(source, "int add(int a, int b) { return a + ; }\n");
        try
        {
            var result = await Cli("--device", "nucleo", "build-and-deploy", "--module-id", "broken", "--source", source);
            CliAssert.Exit(5, result);
            Assert.Contains("COMPILE_ERROR", result.Stderr, StringComparison.Ordinal);
            Assert.Contains($"{Path.GetFileName(source)}:1:", result.Stderr, StringComparison.Ordinal);
            Assert.Contains("expected expression", result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("wasmorch-build-", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(source);
        }
        await AssertOtherBoardWorks();
    }

    [Fact]
    public async Task Invalid_or_missing_module_files_are_refused()
    {
        var truncated = Path.Combine(Path.GetTempPath(), $"half-{Guid.NewGuid():n}.wasm");
        var module = ModuleBuilder.Build("math_ops.c");
        await File.WriteAllBytesAsync(truncated, module[..(module.Length / 2)]);
        try
        {
            var result = await Cli("--device", "nucleo", "deploy", "--module-id", "half", "--file", truncated);
            CliAssert.Exit(7, result);
            Assert.Contains("INVALID_MODULE", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(truncated);
        }
        var missing = await Cli("--device", "nucleo", "deploy", "--module-id", "x", "--file", "/nonexistent/x.wasm");
        CliAssert.Exit(2, missing);
        var usage = await Cli("--device", "nucleo", "start", "--module-id", "x");
        CliAssert.Exit(2, usage);
        Assert.Contains("--func-name", usage.Stderr, StringComparison.Ordinal);
        var mode = await Cli("--device", "nucleo", "build-and-deploy", "--module-id", "m", "--source", RepoPaths.Module("math_ops.c"), "--mode", "jit");
        CliAssert.Exit(2, mode);
        Assert.Contains("'jit'", mode.Stderr, StringComparison.Ordinal);
        await AssertOtherBoardWorks();
    }
}
