using System.Diagnostics;
using System.Globalization;

namespace Wasmorch.Bench;

/// <summary>
/// The edit→result loop of issue 19: a save of math_ops.c (its add gains a new constant each time)
/// to the value printed by `wasmorch watch` (a process, the Native AOT CLI), against the same edit
/// done by hand in the same run: `build-and-deploy` then `start --wait-result`, two CLI processes.
/// On an emulated board over TCP, and on one behind a tty at 115200 baud (with and without
/// `--wasm-opt`: a smaller module against a binaryen run per save).
/// </summary>
public static class EditLoopBench
{
    private const int Edits = 7;
    private const int Baud = 115200;

    public static async Task<IReadOnlyList<BenchResult>> RunAsync(string cacheDir, string repoRoot)
    {
        var cli = Path.Combine(repoRoot, "build", "cli", "wasmorch");
        if (!File.Exists(cli))
        {
            throw new InvalidOperationException($"{cli} is missing: run scripts/publish-cli.sh first");
        }
        var mathOps = await File.ReadAllTextAsync(Path.Combine(repoRoot, "modules", "c", "math_ops.c"));
        const string Add = "return a + b; }";
        if (!mathOps.Contains(Add, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"math_ops.c no longer has '{Add}' for the bench to edit");
        }
        string Source(int k) => mathOps.Replace(Add, string.Create(CultureInfo.InvariantCulture, $"return a + b + {k}; }}"), StringComparison.Ordinal);
        var next = 1000;

        double emulatedWatch, emulatedByHand, ttyWatch, ttyByHand, ttyOptimized;
        await using (var harness = await Harness.StartAsync(1, cacheDir))
        {
            (emulatedWatch, emulatedByHand) = await MeasureAsync(cli, harness, Source, () => next++, []);
        }
        await using (var harness = await Harness.StartSerialAsync(cacheDir, Baud))
        {
            (ttyWatch, ttyByHand) = await MeasureAsync(cli, harness, Source, () => next++, []);
            (ttyOptimized, _) = await MeasureAsync(cli, harness, Source, () => next++, ["--wasm-opt"], byHand: false);
        }
        string Met(double ms, double target) => ms <= target ? "met" : "not met";
        return
        [
            new BenchResult($"save → result printed by `wasmorch watch`, math_ops, emulated board (median of {Edits} edits)", emulatedWatch, "ms",
                "the same edit by hand: build-and-deploy + start --wait-result", emulatedByHand, 1, HigherIsBetter: false,
                Notes: $"issue 19's target: ≤ 500 ms ({Met(emulatedWatch, 500)}); each edit compiles (clang), uploads and runs"),
            new BenchResult($"save → result printed by `wasmorch watch`, math_ops, board behind a tty at {Baud} baud (median of {Edits} edits)", ttyWatch, "ms",
                "the same edit by hand over the same tty", ttyByHand, 1, HigherIsBetter: false,
                Notes: $"issue 19's target: ≤ 1500 ms ({Met(ttyWatch, 1500)}); XLOAD lzss1 of the changed module"),
            new BenchResult($"save → result with `watch --wasm-opt`, math_ops, tty at {Baud} baud (median of {Edits} edits)", ttyOptimized, "ms",
                "the same watch without --wasm-opt", ttyWatch, 1.1, HigherIsBetter: false,
                Notes: "a binaryen run per save against fewer bytes on the wire; ≤ 1.1: no slower than without"),
        ];
    }

    /// <summary>The median save → printed value of watch, and (unless not asked) of the same edit by hand, on b0.</summary>
    private static async Task<(double Watch, double ByHand)> MeasureAsync(string cli, Harness harness, Func<int, string> source, Func<int> nextValue, string[] flags, bool byHand = true)
    {
        var gateway = harness.Gateway.ToString();
        var dir = Directory.CreateTempSubdirectory("wasmorch-bench-edit-").FullName;
        var path = Path.Combine(dir, "loop.c");
        try
        {
            var byHandTimes = new List<double>();
            for (var i = 0; byHand && i < Edits; i++)
            {
                var k = nextValue();
                await File.WriteAllTextAsync(path, source(k));
                var clock = Stopwatch.StartNew();
                await RunCliAsync(cli, ["--gateway", gateway, "--device", "b0", "build-and-deploy", "--module-id", "loop", "--source", path, .. flags]);
                var output = await RunCliAsync(cli, "--gateway", gateway, "--device", "b0", "start", "--module-id", "loop", "--func-name", "add", "--func-args", "1,2", "--wait-result");
                byHandTimes.Add(clock.Elapsed.TotalMilliseconds);
                Expect(output, k + 3);
            }

            // watch: the save is the only thing the user does.
            var first = nextValue();
            await File.WriteAllTextAsync(path, source(first));
            var info = new ProcessStartInfo(cli) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in (string[])["--gateway", gateway, "--device", "b0", "watch", path, "add", "1", "2", .. flags])
            {
                info.ArgumentList.Add(a);
            }
            using var watch = Process.Start(info)!;
            var watched = new List<double>();
            try
            {
                await WaitForValueAsync(watch, first + 3);
                for (var i = 0; i < Edits; i++)
                {
                    var k = nextValue();
                    // Past the file system's timestamp granularity and the watch's quiet time.
                    await Task.Delay(150);
                    var clock = Stopwatch.StartNew();
                    await File.WriteAllTextAsync(path, source(k));
                    await WaitForValueAsync(watch, k + 3);
                    watched.Add(clock.Elapsed.TotalMilliseconds);
                }
            }
            finally
            {
                watch.Kill();
                await watch.WaitForExitAsync();
            }
            return (Median(watched), byHand ? Median(byHandTimes) : double.NaN);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static double Median(List<double> samples)
    {
        samples.Sort();
        return samples[samples.Count / 2];
    }

    private static void Expect(string output, int value)
    {
        if (!output.Contains(string.Create(CultureInfo.InvariantCulture, $"value={value} "), StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"expected value={value}: {output}");
        }
    }

    private static async Task<string> RunCliAsync(string cli, params string[] args)
    {
        var info = new ProcessStartInfo(cli) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"wasmorch {string.Join(' ', args)} exited {process.ExitCode}: {output}{await process.StandardError.ReadToEndAsync()}");
        }
        return output;
    }

    private static async Task WaitForValueAsync(Process watch, int value)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var wanted = string.Create(CultureInfo.InvariantCulture, $"value={value} ");
        while (await watch.StandardOutput.ReadLineAsync(limit.Token) is { } line)
        {
            if (line.Contains(wanted, StringComparison.Ordinal))
            {
                return;
            }
        }
        throw new InvalidOperationException($"watch ended before printing {wanted}");
    }
}
