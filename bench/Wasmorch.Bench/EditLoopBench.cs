using System.Diagnostics;
using System.Globalization;

namespace Wasmorch.Bench;

/// <summary>
/// The edit→result loop of issue 19: a save of math_ops-like C to the value printed by
/// `wasmorch watch` (a process, the Native AOT CLI), against the same edit done by hand in the same
/// run: `build-and-deploy` then `start --wait-result`, two CLI processes. Emulated board over TCP.
/// </summary>
public static class EditLoopBench
{
    private const int Edits = 7;

    private static string Source(int k) => string.Create(CultureInfo.InvariantCulture,
        $"#include \"wasmorch.h\"\nWASMORCH_EXPORT(\"add\") int32_t add(int32_t a, int32_t b) {{ return a + b + {k}; }}\n");

    public static async Task<IReadOnlyList<BenchResult>> RunAsync(string cacheDir, string repoRoot)
    {
        var cli = Path.Combine(repoRoot, "build", "cli", "wasmorch");
        if (!File.Exists(cli))
        {
            throw new InvalidOperationException($"{cli} is missing: run scripts/publish-cli.sh first");
        }
        await using var harness = await Harness.StartAsync(1, cacheDir);
        var gateway = harness.Gateway.ToString();
        var dir = Directory.CreateTempSubdirectory("wasmorch-bench-edit-").FullName;
        var source = Path.Combine(dir, "loop.c");
        var next = 1000;
        try
        {
            // By hand: write, build-and-deploy, start --wait-result.
            var byHand = new List<double>();
            for (var i = 0; i < Edits; i++)
            {
                var k = next++;
                await File.WriteAllTextAsync(source, Source(k));
                var clock = Stopwatch.StartNew();
                await RunCliAsync(cli, "--gateway", gateway, "--device", "b0", "build-and-deploy", "--module-id", "loop", "--source", source);
                var output = await RunCliAsync(cli, "--gateway", gateway, "--device", "b0", "start", "--module-id", "loop", "--func-name", "add", "--func-args", "1,2", "--wait-result");
                byHand.Add(clock.Elapsed.TotalMilliseconds);
                Expect(output, k + 3);
            }

            // watch: the save is the only thing the user does.
            var info = new ProcessStartInfo(cli) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "--gateway", gateway, "--device", "b0", "watch", source, "add", "1", "2" })
            {
                info.ArgumentList.Add(a);
            }
            using var watch = Process.Start(info)!;
            var watched = new List<double>();
            try
            {
                await WaitForValueAsync(watch, next - 1 + 3);
                for (var i = 0; i < Edits; i++)
                {
                    var k = next++;
                    // Past the file system's timestamp granularity and the watch's quiet time.
                    await Task.Delay(150);
                    var clock = Stopwatch.StartNew();
                    await File.WriteAllTextAsync(source, Source(k));
                    await WaitForValueAsync(watch, k + 3);
                    watched.Add(clock.Elapsed.TotalMilliseconds);
                }
            }
            finally
            {
                watch.Kill();
                await watch.WaitForExitAsync();
            }
            var median = Median(watched);
            return
            [
                new BenchResult("save → result printed by `wasmorch watch`, emulated board (median of 7 edits)", median, "ms",
                    "the same edit by hand: build-and-deploy + start --wait-result", Median(byHand), 1, HigherIsBetter: false,
                    Notes: string.Create(CultureInfo.InvariantCulture, $"issue 19's target: ≤ 500 ms ({(median <= 500 ? "met" : "not met")}); each edit compiles (clang), uploads and runs")),
            ];
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
