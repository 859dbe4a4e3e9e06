using Microsoft.Extensions.Logging.Abstractions;
using Wasmorch.Gateway.Api;
using Wasmorch.Gateway.Build;
using Wasmorch.Gateway.Config;
using Wasmorch.Gateway.Devices;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Testing;

namespace Wasmorch.Gateway.Tests;

public sealed class ArtifactCacheTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wasmorch-cache-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public async Task Second_lookup_is_a_hit_and_survives_a_new_instance()
    {
        var builds = 0;
        var cache = new ArtifactCache(_dir, 1 << 20);
        var (first, hit1) = await cache.GetOrBuildAsync("k1", () => Task.FromResult(new byte[] { (byte)++builds }));
        var (second, hit2) = await new ArtifactCache(_dir, 1 << 20).GetOrBuildAsync("k1", () => Task.FromResult(new byte[] { (byte)++builds }));
        Assert.Equal((false, true, 1), (hit1, hit2, builds));
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Concurrent_builds_of_one_key_build_once()
    {
        var builds = 0;
        var gate = new TaskCompletionSource();
        var cache = new ArtifactCache(_dir, 1 << 20);
        var tasks = Enumerable.Range(0, 8).Select(_ => cache.GetOrBuildAsync("same", async () =>
        {
            Interlocked.Increment(ref builds);
            await gate.Task;
            return new byte[] { 42 };
        })).ToList();
        gate.SetResult();
        var results = await Task.WhenAll(tasks);
        Assert.Equal(1, builds);
        Assert.All(results, r => Assert.Equal(42, r.Bytes[0]));
    }

    /// <summary>Finding 10 of issue 14: a modified cache file was deployed as a "cache hit".</summary>
    [Fact]
    public async Task A_cache_file_changed_on_disk_is_discarded_and_built_again()
    {
        var builds = 0;
        var discarded = new List<string>();
        var cache = new ArtifactCache(_dir, 1 << 20);
        cache.Discarded += (key, reason) => discarded.Add($"{key}: {reason}");
        await cache.GetOrBuildAsync("k1", () => Task.FromResult(new byte[] { 1, 2, 3, (byte)++builds }));
        var path = Path.Combine(_dir, "k1.bin");
        var file = await File.ReadAllBytesAsync(path);
        file[^2] ^= 0xff;
        await File.WriteAllBytesAsync(path, file);

        var (bytes, hit) = await cache.GetOrBuildAsync("k1", () => Task.FromResult(new byte[] { 1, 2, 3, (byte)++builds }));
        Assert.Equal((false, 2), (hit, builds));
        Assert.Equal([1, 2, 3, 2], bytes);
        Assert.StartsWith("k1: its bytes no longer have the SHA-256 recorded", Assert.Single(discarded), StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_cache_is_private_to_its_owner()
    {
        var dir = Path.Combine(_dir, "private");
        var cache = new ArtifactCache(dir, 1 << 20);
        await cache.GetOrBuildAsync("k", () => Task.FromResult(new byte[] { 7 }));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, "k.bin")));
    }

    [Fact]
    public async Task Least_recently_used_artifacts_go_first_past_the_cap()
    {
        var cache = new ArtifactCache(_dir, 2500);
        await cache.GetOrBuildAsync("old", () => Task.FromResult(new byte[1000]));
        File.SetLastAccessTimeUtc(Path.Combine(_dir, "old.bin"), DateTime.UtcNow.AddHours(-2));
        await cache.GetOrBuildAsync("used", () => Task.FromResult(new byte[1000]));
        File.SetLastAccessTimeUtc(Path.Combine(_dir, "used.bin"), DateTime.UtcNow.AddHours(-1));
        await cache.GetOrBuildAsync("new", () => Task.FromResult(new byte[1000]));
        Assert.False(File.Exists(Path.Combine(_dir, "old.bin")));
        Assert.True(File.Exists(Path.Combine(_dir, "used.bin")));
        Assert.True(File.Exists(Path.Combine(_dir, "new.bin")));
    }
}

public sealed class BuildOptionsAndValidationTests
{
    [Theory]
    [InlineData("4", null, null, "opt_level")]
    [InlineData(null, 100, null, "stack_size")]
    [InlineData(null, null, "bad-name", "not a C identifier")]
    [InlineData(null, null, "x;rm", "not a C identifier")]
    public void Options_are_structured_and_checked(string? opt, int? stack, string? export, string message)
    {
        var request = new HostRequest { OptLevel = opt, StackSize = stack, Exports = export is null ? null : [export] };
        var error = Assert.Throws<GatewayException>(() => BuildOptions.From(request));
        Assert.Equal(HostErrorCodes.BadRequest, error.Code);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_change_only_their_flags()
    {
        var options = BuildOptions.From(new HostRequest { OptLevel = "s", StackSize = 4096, Exports = ["helper"] });
        Assert.Contains("-Os", options.CompileArguments());
        Assert.Contains("-Wl,-z,stack-size=4096", options.LinkArguments());
        Assert.Contains("-Wl,--export=helper", options.LinkArguments());
        Assert.Contains("-Wl,--max-memory=65536", options.LinkArguments());
    }

    /// <summary>
    /// WAMR sizes a module's memory to __heap_base only when the module exports it and __data_end,
    /// and its AOT runtime runs such a module only when its data ends above its stack.
    /// </summary>
    [Fact]
    public async Task Built_modules_say_where_their_data_ends_and_it_ends_above_the_stack()
    {
        var compiler = new ClangCompiler("clang", TimeSpan.FromSeconds(60));
        var built = await compiler.CompileAsync("__attribute__((export_name(\"add\"))) int add(int a, int b) { return a + b; }\n", "add.c", CancellationToken.None);
        using var engine = new Wasmtime.Engine();
        using var module = Wasmtime.Module.FromBytes(engine, "add", built.Module);
        using var store = new Wasmtime.Store(engine);
        using var linker = new Wasmtime.Linker(engine);
        var instance = linker.Instantiate(store, module);
        var dataEnd = (int)instance.GetGlobal("__data_end")!.GetValue()!;
        var heapBase = (int)instance.GetGlobal("__heap_base")!.GetValue()!;
        Assert.True(dataEnd > BuildOptions.Seed.StackSize, $"__data_end {dataEnd} should be above the {BuildOptions.Seed.StackSize}-byte stack");
        Assert.True(heapBase >= dataEnd, $"__heap_base {heapBase} should not be below __data_end {dataEnd}");
    }

    [Fact]
    public void Modules_that_need_what_boards_lack_are_refused_before_upload()
    {
        var rockets = ModuleBuilder.CompileText("""
            __attribute__((import_module("env"), import_name("launch_rockets"))) void launch_rockets(int);
            __attribute__((export_name("go"))) void go(void) { launch_rockets(3); }
            """);
        var error = Assert.Throws<GatewayException>(() => ModuleValidator.Check(rockets, null, "d"));
        Assert.Contains("env::launch_rockets", error.Message, StringComparison.Ordinal);
        ModuleValidator.Check(ModuleBuilder.Build("toggle_forever.c"), null, "d");
        byte[] bigMemory = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00, 0x02];
        Assert.Equal("NO_MEMORY", Assert.Throws<GatewayException>(() => ModuleValidator.Check(bigMemory, null, "d")).Code);
    }

    [Fact]
    public void A_module_whose_memory_is_shared_is_refused_before_upload()
    {
        // One memory of one page, limits flags 3: a maximum, and shared (the threads proposal).
        byte[] shared = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x04, 0x01, 0x03, 0x01, 0x01];
        var error = Assert.Throws<GatewayException>(() => ModuleValidator.Check(shared, null, "d"));
        Assert.Equal(("INVALID_MODULE", "module's memory is shared (the threads proposal's 'shared' limits flag); boards give one unshared memory: build without threads or shared memory"), (error.Code, error.Message));
        byte[] unshared = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x04, 0x01, 0x01, 0x01, 0x01];
        ModuleValidator.Check(unshared, null, "d");
    }
}

/// <summary>--mode aot against a WAMR device when wamrc is missing: a COMPILE_ERROR that says how to get it.</summary>
public sealed class AotTargetTests : IDisposable
{
    private readonly string _cache = Directory.CreateTempSubdirectory("wasmorch-cache-").FullName;

    public void Dispose() => Directory.Delete(_cache, true);

    private RequestDispatcher Handler(int port, out DeviceRegistry registry)
    {
        var config = new GatewayConfig { Wamrc = "/nonexistent/wamrc", CacheDirectory = _cache };
        config.AddDevice("nucleo", $"tcp://127.0.0.1:{port}", "test");
        registry = new DeviceRegistry(config, NullLogger.Instance);
        var build = new BuildService(new ClangCompiler("clang", TimeSpan.FromSeconds(30)), new AotCompiler(config.Wamrc, TimeSpan.FromSeconds(30)), new ArtifactCache(_cache, 1 << 20));
        return new RequestDispatcher(registry, build, config);
    }

    [Fact]
    public async Task Missing_wamrc_is_explained()
    {
        await using var agent = new ScriptedAgent(line => line switch
        {
            _ when line.StartsWith("HELLO", StringComparison.Ordinal) =>
                ["HELLO_OK proto=1 agent=wasmorch-zephyr/0.1 board=nucleo_f446re runtime=wamr/2.4.3 modes=wasm,aot aot_target=thumbv7em max_module=12288 max_modules=4 extensions=PING"],
            "CAPS" => ["ERR code=BAD_COMMAND msg=\"unknown command 'CAPS'\""],
            _ => ["STATUS state=IDLE module=- func=- job=- modules=- uptime_ms=1"],
        })
        {
            AnswerHelloAsBaseline = false,
        };
        var handler = Handler(agent.Port, out var registry);
        await using var _ = registry;
        var response = await handler.HandleAsync(new HostRequest
        {
            Id = 1, Op = HostOps.BuildAndDeploy, Device = "nucleo", ModuleId = "math_ops", Mode = "aot",
            Source = await File.ReadAllTextAsync(RepoPaths.Module("math_ops.c")), SourceName = "math_ops.c",
        }, CancellationToken.None);
        Assert.False(response.Ok);
        Assert.Equal(HostErrorCodes.CompileError, response.Error!.Code);
        Assert.Contains("needs wamrc", response.Error.Message, StringComparison.Ordinal);
        Assert.Contains("llvm", response.Error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(agent.Received, l => l.StartsWith("LOAD", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Baseline_agent_has_no_aot_target()
    {
        await using var agent = new ScriptedAgent(_ => ["STATUS state=IDLE"]);
        var handler = Handler(agent.Port, out var registry);
        await using var _ = registry;
        var response = await handler.HandleAsync(new HostRequest
        {
            Id = 1, Op = HostOps.BuildAndDeploy, Device = "nucleo", ModuleId = "m", Mode = "aot", Source = "int x;", SourceName = "m.c",
        }, CancellationToken.None);
        Assert.Equal(HostErrorCodes.Unsupported, response.Error!.Code);
        Assert.Contains("seed-baseline", response.Error.Message, StringComparison.Ordinal);
    }
}
