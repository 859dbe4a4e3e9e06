using Wasmorch.WasmtimeTarget;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Wasmorch.Emulator.Runtime;
using Wasmorch.Protocol.HostApi;
using Wasmtime;

namespace Wasmorch.Bench;

public static class SystemBenches
{
    /// <summary>64 KiB LOAD over loopback TCP vs the same bytes copied through a plain socket and acknowledged.</summary>
    public static async Task<IReadOnlyList<BenchResult>> TcpUploadAsync(string cacheDir)
    {
        var module = Modules.OfSize(60 * 1024);
        await using var harness = await Harness.StartAsync(1, cacheDir);
        await using var client = await HostClient.ConnectAsync(harness.Gateway);
        var base64 = Convert.ToBase64String(module);
        var ours = new List<double>();
        var verifies = new List<double>();
        for (var i = 0; i < 12; i++)
        {
            var (response, _) = await client.SendAsync(new HostRequest { Op = HostOps.Deploy, Device = "b0", ModuleId = "m", Module = base64, Force = true });
            if (!response.Ok)
            {
                throw new InvalidOperationException(response.Error?.Message);
            }
            ours.Add(response.Timing!.TransferMs!.Value);
            verifies.Add(response.Timing.VerifyMs ?? 0);
        }
        var raw = await RawCopyAsync(module, 12);
        var oursRate = module.Length / 1024.0 / (Stats.Percentile(ours.Skip(2).ToList(), 50) / 1000);
        var rawRate = module.Length / 1024.0 / (Stats.Percentile(raw.Skip(2).ToList(), 50) / 1000);
        var verify = Stats.Percentile(verifies.Skip(2).ToList(), 50);
        return [new($"upload {module.Length / 1024} KiB over loopback TCP (median)", oursRate, "KiB/s", "raw socket copy + ack", rawRate, 0.8, true,
            $"link time only: the agent's CRC + compile ({verify:0.00} ms, LOAD_OK verify_us) is reported apart")];
    }

    private static async Task<List<double>> RawCopyAsync(byte[] payload, int runs)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var server = Task.Run(async () =>
        {
            using var socket = await listener.AcceptTcpClientAsync();
            var stream = socket.GetStream();
            var buffer = new byte[payload.Length];
            for (var i = 0; i < runs; i++)
            {
                await stream.ReadExactlyAsync(buffer);
                await stream.WriteAsync(new byte[] { (byte)'\n' });
            }
        });
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        var s = client.GetStream();
        var ack = new byte[1];
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var clock = Stopwatch.StartNew();
            await s.WriteAsync(payload);
            await s.ReadExactlyAsync(ack);
            times.Add(clock.Elapsed.TotalMilliseconds);
        }
        await server;
        return times;
    }

    /// <summary>Deploy + start add on N boards through one gateway, all requests in flight at once.</summary>
    public static async Task<IReadOnlyList<BenchResult>> FleetAsync(string cacheDir)
    {
        var perBoard = new Dictionary<int, double>();
        var rows = new List<BenchResult>();
        var base64 = Convert.ToBase64String(Modules.Add);
        foreach (var n in new[] { 10, 100, 1000 })
        {
            // Best of three fresh fleets per size: on a shared 2-core machine one run moves by 10-20%,
            // and the same rule applies to every size that is compared.
            var wall = double.MaxValue;
            var rss = 0.0;
            for (var trial = 0; trial < 3; trial++)
            {
                var memoryBefore = Environment.WorkingSet;
                await using var harness = await Harness.StartAsync(n, cacheDir);
                await using var client = await HostClient.ConnectAsync(harness.Gateway);
                var clock = Stopwatch.StartNew();
                var results = await Task.WhenAll(harness.Boards.Select(async board =>
                {
                    var (deploy, _) = await client.SendAsync(new HostRequest { Op = HostOps.Deploy, Device = board, ModuleId = "m", Module = base64 });
                    var (start, _) = await client.SendAsync(new HostRequest { Op = HostOps.Start, Device = board, ModuleId = "m", Func = "add", Args = "10,15", WaitResult = true });
                    return deploy.Ok && start.Ok && start.Value?.GetInt32() == 25;
                }));
                // The clock stops when the gateway has also recorded every job: for a small fleet
                // that work would otherwise finish after the clock, for a large one inside it.
                await harness.SettledAsync();
                wall = Math.Min(wall, clock.Elapsed.TotalSeconds);
                if (results.Any(ok => !ok))
                {
                    throw new InvalidOperationException($"fleet of {n}: {results.Count(ok => !ok)} boards failed");
                }
                if (trial == 0)
                {
                    rss = (Environment.WorkingSet - memoryBefore) / 1024.0 / 1024.0;
                }
            }
            perBoard[n] = wall / n * 1000;
            if (n == 1000)
            {
                rows.Add(new("fleet: deploy + start add on 1,000 boards (best of 3)", wall, "s", "target wall time", 5, 1, false, $"{perBoard[n]:0.00} ms per board"));
                rows.Add(new("fleet: per-board cost, 1,000 vs 100 boards", perBoard[1000], "ms", "per board at 100", perBoard[100], 1.0, false, "≤ 1 means no worse than linear"));
                rows.Add(new("memory: gateway + emulator with 1,000 boards (RSS growth, one process)", rss, "MiB", "per board", rss / 1000, 1000, false,
                    "baseline column is MiB per board; no target set"));
            }
            else
            {
                rows.Add(new($"fleet: deploy + start add on {n} boards (best of 3)", wall, "s", "per board", perBoard[n] / 1000, double.PositiveInfinity, false, $"{perBoard[n]:0.00} ms per board"));
            }
        }
        return rows;
    }

    /// <summary>The call alone: add inside the emulator's runner (elapsed_us) vs a typed direct Wasmtime call.</summary>
    public static async Task<IReadOnlyList<BenchResult>> EmulatorExecutionAsync(string cacheDir)
    {
        await using var harness = await Harness.StartAsync(1, cacheDir);
        await using var client = await HostClient.ConnectAsync(harness.Gateway);
        await client.SendAsync(new HostRequest { Op = HostOps.Deploy, Device = "b0", ModuleId = "m", Module = Convert.ToBase64String(Modules.Add) });
        var jobs = new List<double>();
        for (var i = 0; i < 300; i++)
        {
            var (r, _) = await client.SendAsync(new HostRequest { Op = HostOps.Start, Device = "b0", ModuleId = "m", Func = "add", Args = "10,15", WaitResult = true });
            jobs.Add(r.ElapsedUs!.Value);
        }
        using var engine = new Engine();
        using var module = Module.FromBytes(engine, "m", Modules.Add);
        using var store = new Store(engine);
        var add = new Linker(engine).Instantiate(store, module).GetFunction<int, int, int>("add")!;
        var direct = Stopwatch.StartNew();
        for (var i = 0; i < 100_000; i++)
        {
            add(10, 15);
        }
        var directUs = direct.Elapsed.TotalMicroseconds / 100_000;
        return [new("emulator job: add (instantiate + call), p50", Stats.Percentile(jobs.Skip(50).ToList(), 50), "µs", "direct typed Wasmtime call", directUs, double.PositiveInfinity, false,
            "a job gets a fresh store and instance (isolation between jobs); no target set")];
    }

    /// <summary>STOP of toggle_forever: from sending STOP to the job's RESULT status=STOPPED.</summary>
    public static async Task<IReadOnlyList<BenchResult>> StopLatencyAsync(string cacheDir)
    {
        var toggle = Module.ConvertText("""
            (module
              (import "env" "gpio_toggle" (func $toggle (param i32)))
              (import "env" "delay_ms" (func $delay (param i32) (result i32)))
              (memory (export "memory") 1 1)
              (func (export "run") (result i32)
                (block $done (loop $again (call $toggle (i32.const 0)) (br_if $done (call $delay (i32.const 100))) (br $again)))
                (i32.const 0)))
            """);
        await using var harness = await Harness.StartAsync(1, cacheDir);
        await using var client = await HostClient.ConnectAsync(harness.Gateway);
        await client.SendAsync(new HostRequest { Op = HostOps.Deploy, Device = "b0", ModuleId = "t", Module = Convert.ToBase64String(toggle) });
        var stops = new List<double>();
        for (var i = 0; i < 100; i++)
        {
            var waiting = client.SendAsync(new HostRequest { Op = HostOps.Start, Device = "b0", ModuleId = "t", Func = "run", WaitResult = true });
            await Task.Delay(5);
            var clock = Stopwatch.StartNew();
            await client.SendAsync(new HostRequest { Op = HostOps.Stop, Device = "b0", ModuleId = "t" });
            var (result, _) = await waiting;
            stops.Add(clock.Elapsed.TotalMilliseconds);
            if (result.Status != "STOPPED")
            {
                throw new InvalidOperationException($"stop: {result.Status}");
            }
        }
        return [new("STOP of toggle_forever until RESULT STOPPED, p99", Stats.Percentile(stops, 99), "ms", "delay_ms period", 100, 0.1, false, "cooperative stop: delay_ms wakes at once")];
    }

    /// <summary>An AOT (precompiled) module vs the same wasm: load and instantiate.</summary>
    public static Task<IReadOnlyList<BenchResult>> AotInstantiateAsync()
    {
        var wat = "(module (memory (export \"memory\") 1 1) " + string.Concat(Enumerable.Range(0, 300).Select(i =>
            $"(func (export \"f{i}\") (param i32) (result i32) (local i32) (local.set 1 (i32.const {i})) (block (loop (local.set 1 (i32.add (local.get 1) (i32.mul (local.get 0) (i32.const 3)))) (br_if 1 (i32.gt_s (local.get 1) (i32.const 1000))) (br 0))) (local.get 1))")) + ")";
        var wasm = Module.ConvertText(wat);
        using var runtime = new WasmRuntime();
        using var config = EmulatedTarget.CreateConfig();
        using var engine = new Engine(config);
        byte[] aot;
        using (var m = Module.FromBytes(engine, "m", wasm))
        {
            aot = m.Serialize();
        }
        double Time(Func<Module> load)
        {
            var samples = new List<double>();
            for (var i = 0; i < 20; i++)
            {
                var clock = Stopwatch.StartNew();
                using var module = load();
                using var store = new Store(runtime.Engine);
                store.SetEpochDeadline(1);
                runtime.Linker.Instantiate(store, module);
                samples.Add(clock.Elapsed.TotalMilliseconds);
            }
            return Stats.Percentile(samples, 50);
        }
        var wasmMs = Time(() => Module.FromBytes(runtime.Engine, "m", wasm));
        var aotMs = Time(() => Module.Deserialize(runtime.Engine, "m", aot));
        return Task.FromResult<IReadOnlyList<BenchResult>>([new($"AOT module load + instantiate ({wasm.Length / 1024} KiB wasm, 300 functions)", aotMs, "ms", "same module as wasm", wasmMs, 1, false)]);
    }

    /// <summary>build-and-deploy twice with the same source: the second is a cache hit with the upload skipped.</summary>
    public static async Task<IReadOnlyList<BenchResult>> RepeatDeployAsync(string cacheDir)
    {
        await using var harness = await Harness.StartAsync(1, cacheDir);
        await using var client = await HostClient.ConnectAsync(harness.Gateway);
        var source = $"#include \"wasmorch.h\"\nWASMORCH_EXPORT(\"add\") int32_t add(int32_t a, int32_t b) {{ return a + b; }}\n/* {Guid.NewGuid()} */\n";
        var request = () => new HostRequest { Op = HostOps.BuildAndDeploy, Device = "b0", ModuleId = "m", Source = source, SourceName = "m.c" };
        var (first, firstLatency) = await client.SendAsync(request());
        var (second, secondLatency) = await client.SendAsync(request());
        if (first.CacheHit != false || second.CacheHit != true || second.UploadSkipped != true)
        {
            throw new InvalidOperationException("the repeat was not a cache hit with the upload skipped");
        }
        return [new("repeated identical build-and-deploy (cache hit, upload skipped)", secondLatency.TotalMilliseconds, "ms", "first build-and-deploy", firstLatency.TotalMilliseconds, 0.2, false)];
    }

    /// <summary>`wasmorch status` as a whole process vs a minimal python3 raw-socket client doing the same request.</summary>
    public static async Task<IReadOnlyList<BenchResult>> CliProcessAsync(string cacheDir, string repoRoot)
    {
        await using var harness = await Harness.StartAsync(1, cacheDir);
        var gateway = harness.Gateway.ToString();
        var python = $"import socket,sys\ns=socket.create_connection(('127.0.0.1',{harness.Gateway.Port}))\ns.sendall(b'{{\"id\":1,\"op\":\"status\",\"device\":\"b0\"}}\\n')\nf=s.makefile()\nprint(f.readline())";
        async Task<double> Run(string file, params string[] args)
        {
            var samples = new List<double>();
            for (var i = 0; i < 8; i++)
            {
                var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
                foreach (var a in args)
                {
                    info.ArgumentList.Add(a);
                }
                var clock = Stopwatch.StartNew();
                using var p = Process.Start(info)!;
                await p.StandardOutput.ReadToEndAsync();
                await p.WaitForExitAsync();
                samples.Add(clock.Elapsed.TotalMilliseconds);
                if (p.ExitCode != 0)
                {
                    throw new InvalidOperationException($"{file} exited {p.ExitCode}");
                }
            }
            return Stats.Percentile(samples.Skip(2).ToList(), 50);
        }
        // The interpreter itself, not a version-manager shim in front of it (which would slow the baseline down).
        var py = await Run(File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3", "-c", python);
        var native = Path.Combine(repoRoot, "build", "cli", "wasmorch");
        var jit = await Run("dotnet", Path.Combine(repoRoot, "src", "Wasmorch.Cli", "bin", "Release", "net10.0", "wasmorch.dll"), "--gateway", gateway, "--device", "b0", "status");
        List<BenchResult> results = [];
        if (File.Exists(native))
        {
            var aot = await Run(native, "--gateway", gateway, "--device", "b0", "status");
            results.Add(new("`wasmorch status` as a process, Native AOT build (median)", aot, "ms", "python3 raw-socket client", py, 1, false, "build/cli/wasmorch from scripts/publish-cli.sh"));
        }
        results.Add(new("`wasmorch status` as a process, `dotnet wasmorch.dll` (median)", jit, "ms", "python3 raw-socket client", py, 1, false, "framework-dependent: .NET runtime start-up + JIT"));
        return results;
    }
}

public static class SoakBench
{
    /// <summary>10,000 deploy + start cycles through one gateway: the gateway's memory must stay flat.</summary>
    public static async Task<IReadOnlyList<BenchResult>> RunAsync(string cacheDir, int cycles = 10_000)
    {
        await using var harness = await Harness.StartAsync(1, cacheDir);
        await using var client = await HostClient.ConnectAsync(harness.Gateway);
        var base64 = Convert.ToBase64String(Modules.Add);
        long afterWarmup = 0;
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < cycles; i++)
        {
            var (deploy, _) = await client.SendAsync(new HostRequest { Op = HostOps.Deploy, Device = "b0", ModuleId = $"m{i % 4}", Module = base64, Force = true });
            var (start, _) = await client.SendAsync(new HostRequest { Op = HostOps.Start, Device = "b0", ModuleId = $"m{i % 4}", Func = "add", Args = "10,15", WaitResult = true });
            if (!deploy.Ok || !start.Ok)
            {
                throw new InvalidOperationException($"cycle {i}: {deploy.Error?.Message ?? start.Error?.Message}");
            }
            if (i == cycles / 10)
            {
                afterWarmup = ManagedAndNative();
            }
        }
        var end = ManagedAndNative();
        return [new($"soak: {cycles:N0} deploy + start cycles, memory at the end (in-process gateway + emulator)", end / 1048576.0, "MiB",
            $"after {cycles / 10:N0} cycles", afterWarmup / 1048576.0, 1.2, false, $"{clock.Elapsed.TotalSeconds:0.0} s in all")];
    }

    private static long ManagedAndNative()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }
}
