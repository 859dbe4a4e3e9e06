using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>HELLO both ways over real processes, the conformance command, and module logs.</summary>
public sealed class NegotiationTests
{
    [Fact]
    public async Task Every_seed_command_works_with_an_agent_that_refuses_hello()
    {
        await using var system = new SystemUnderTest();
        system.StartBoard("old", 0, "--baseline");
        system.StartGateway();

        CliAssert.Exit(0, await system.CliAsync("--device", "old", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c")));
        var start = await system.CliAsync("--device", "old", "start", "--module-id", "math_ops", "--func-name", "add", "--func-args", "a=10,b=15", "--wait-result");
        CliAssert.Exit(0, start);
        Assert.Contains("value=25", start.Stdout, StringComparison.Ordinal);
        var status = await system.CliAsync("--device", "old", "status");
        CliAssert.Exit(0, status);
        Assert.Contains("seed baseline (no HELLO)", status.Stdout, StringComparison.Ordinal);
        CliAssert.Exit(0, await system.CliAsync("--device", "old", "build-and-deploy", "--module-id", "toggle_forever", "--source", RepoPaths.Module("toggle_forever.c")));
        CliAssert.Exit(0, await system.CliAsync("--device", "old", "start", "--module-id", "toggle_forever", "--func-name", "run"));
        var stop = await system.CliAsync("--device", "old", "stop", "--module-id", "toggle_forever");
        CliAssert.Exit(0, stop);
        Assert.Contains("status=PENDING", stop.Stdout, StringComparison.Ordinal);
        CliAssert.Exit(0, await system.CliAsync("--device", "old", "ping"));

        // Extensions are not assumed: UNLOAD is refused by the gateway, not sent.
        var unload = await system.CliAsync("--device", "old", "unload", "--module-id", "math_ops");
        CliAssert.Exit(7, unload);
        Assert.Contains("does not offer UNLOAD", unload.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Extensions_are_used_when_offered_and_logs_reach_the_host()
    {
        await using var system = await SystemUnderTest.StartAsync("nucleo");
        await using var follower = RunningProcess.StartCli("--gateway", system.Gateway, "logs", "--follow");
        CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "counter", "--source", RepoPaths.Module("counter.c")));
        var run = await system.CliAsync("--device", "nucleo", "start", "--module-id", "counter", "--func-name", "count", "--func-args", "3,5", "--wait-result");
        CliAssert.Exit(0, run);
        Assert.Contains("value=6", run.Stdout, StringComparison.Ordinal);

        follower.WaitForLine(@"nucleo counter job=1: done");
        var logs = await system.CliAsync("logs");
        CliAssert.Exit(0, logs);
        Assert.Matches(@"(?s)job=1: 1.*job=1: 2.*job=1: 3.*job=1: done", logs.Stdout);

        var status = await system.CliAsync("--device", "nucleo", "status");
        Assert.Contains("extensions=PING,UNLOAD,LOG", status.Stdout, StringComparison.Ordinal);
        CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "unload", "--module-id", "counter"));
        var gone = await system.CliAsync("--device", "nucleo", "start", "--module-id", "counter", "--func-name", "count", "--func-args", "1,0");
        CliAssert.Exit(7, gone);
        Assert.Contains("NO_MODULE", gone.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Conformance_command_passes_the_emulator_process()
    {
        await using var system = new SystemUnderTest();
        system.StartBoard("nucleo", 0);
        var result = await CliRunner.RunAsync("127.0.0.1:1", "conformance", $"tcp://127.0.0.1:{system.BoardPorts["nucleo"]}");
        CliAssert.Exit(0, result);
        Assert.Contains("PASS  load_one_byte_writes", result.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"\d+ passed, 0 failed \(MUST\), 0 warnings \(SHOULD\), 0 skipped", result.Stdout);
    }

    [Fact]
    public async Task Conformance_link_key_off_means_no_key_like_emulate_and_gateway_and_a_missing_key_file_is_named()
    {
        await using var system = new SystemUnderTest();
        system.StartBoard("open", 0, "--link-key", "off");
        var endpoint = $"tcp://127.0.0.1:{system.BoardPorts["open"]}";
        var off = await CliRunner.RunAsync("127.0.0.1:1", "conformance", endpoint, "--link-key", "off", "--case", "load_one_byte_writes");
        CliAssert.Exit(0, off);
        Assert.Contains("PASS  load_one_byte_writes", off.Stdout, StringComparison.Ordinal);

        var missing = Path.Combine(Path.GetTempPath(), $"wasmorch-no-such-key-{Guid.NewGuid():n}");
        var absent = await CliRunner.RunAsync("127.0.0.1:1", "conformance", endpoint, "--link-key", missing);
        CliAssert.Exit(2, absent);
        Assert.Equal($"error: link key {missing} does not exist (give the agent's key file, or \"off\" for an agent without AUTH)", absent.Stderr.Trim());
        Assert.Empty(absent.Stdout);
    }
}

/// <summary>The build pipeline over real processes: AOT to an emulated board, the cache, idempotent deploys.</summary>
public sealed class BuildPipelineTests
{
    [Fact]
    public async Task Aot_deploy_runs_and_a_repeat_is_a_cache_hit_with_no_upload()
    {
        await using var system = await SystemUnderTest.StartAsync("nucleo");
        var source = Path.Combine(Path.GetTempPath(), $"ops_{Guid.NewGuid():n}.c");
        // A source no other test compiled, so the first build cannot be a cache hit.
        await File.WriteAllTextAsync(source, (await File.ReadAllTextAsync(RepoPaths.Module("math_ops.c"))) + $"\n/* {Guid.NewGuid()} */\n");
        try
        {
            var first = await system.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "math_ops", "--source", source, "--mode", "aot");
            CliAssert.Exit(0, first);
            Assert.Contains("artifact=aot:wasmtime-", first.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("cache hit", first.Stdout, StringComparison.Ordinal);
            var add = await system.CliAsync("--device", "nucleo", "start", "--module-id", "math_ops", "--func-name", "add", "--func-args", "a=10,b=15", "--wait-result");
            CliAssert.Exit(0, add);
            Assert.Contains("value=25", add.Stdout, StringComparison.Ordinal);

            var second = await system.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "math_ops", "--source", source, "--mode", "aot");
            CliAssert.Exit(0, second);
            Assert.Contains("cache hit", second.Stdout, StringComparison.Ordinal);
            Assert.Contains("upload skipped", second.Stdout, StringComparison.Ordinal);

            var forced = await system.CliAsync("--device", "nucleo", "--json", "build-and-deploy", "--module-id", "math_ops", "--source", source, "--mode", "aot", "--force");
            CliAssert.Exit(0, forced);
            Assert.Contains("\"upload_skipped\":false", forced.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(source);
        }
    }

    [Fact]
    public async Task Local_build_writes_a_module_without_a_gateway()
    {
        var output = Path.Combine(Path.GetTempPath(), $"m_{Guid.NewGuid():n}.wasm");
        try
        {
            var result = await CliRunner.RunAsync("127.0.0.1:1", "build", "--source", RepoPaths.Module("math_ops.c"), "-o", output, "--opt-level", "2");
            CliAssert.Exit(0, result);
            Assert.Contains("-O2", result.Stdout, StringComparison.Ordinal);
            Assert.Equal("\0asm"u8.ToArray(), (await File.ReadAllBytesAsync(output))[..4]);
        }
        finally
        {
            File.Delete(output);
        }
    }
}
