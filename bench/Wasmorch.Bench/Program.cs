using System.Globalization;
using System.Text;
using Wasmorch.Bench;

// usage: Wasmorch.Bench [--out docs/performance.md] [--only name-substring]
var output = "docs/performance.md";
string? only = null;
for (var i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--out")
    {
        output = args[i + 1];
    }
    else if (args[i] == "--only")
    {
        only = args[i + 1];
    }
}

var cacheDir = Directory.CreateTempSubdirectory("wasmorch-bench-cache-").FullName;
var benchmarks = new (string Name, Func<Task<IReadOnlyList<BenchResult>>> Run)[]
{
    ("latency", () => LatencyBench.RunAsync(cacheDir)),
    ("http-metrics", () => HttpBench.RunAsync(cacheDir)),
    ("cli-process", () => SystemBenches.CliProcessAsync(cacheDir, Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."))),
    ("tcp-upload", () => SystemBenches.TcpUploadAsync(cacheDir)),
    ("fleet", () => SystemBenches.FleetAsync(cacheDir)),
    ("fleet-routing", () => FleetRoutingBench.RunAsync(cacheDir)),
    ("fleet-ops", () => FleetOpsBench.RunAsync(cacheDir)),
    ("fleet-scale", () => FleetScaleBench.RunAsync(cacheDir, Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."))),
    ("emulator-execution", () => SystemBenches.EmulatorExecutionAsync(cacheDir)),
    ("stop-latency", () => SystemBenches.StopLatencyAsync(cacheDir)),
    ("aot-instantiate", SystemBenches.AotInstantiateAsync),
    ("repeat-deploy", () => SystemBenches.RepeatDeployAsync(cacheDir)),
    ("soak", () => SoakBench.RunAsync(cacheDir)),
    ("serial-upload", SerialUploadBench.RunAsync),
    ("edit-loop", () => EditLoopBench.RunAsync(cacheDir, Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."))),
};

var results = new List<BenchResult>();
foreach (var (name, run) in benchmarks.Where(b => only is null || b.Name.Contains(only, StringComparison.Ordinal)))
{
    Console.Error.WriteLine($"bench: {name} ...");
    foreach (var result in await run())
    {
        results.Add(result);
        Console.WriteLine(result.ToMarkdownRow());
    }
}

var doc = new StringBuilder()
    .AppendLine("# Performance")
    .AppendLine()
    .AppendLine(CultureInfo.InvariantCulture, $"Measured by `./bench.sh` on {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC. Every figure stands beside a baseline measured in the same run on the same machine; the ratio is what is compared with the target.")
    .AppendLine()
    .AppendLine("| benchmark | figure | baseline | ratio | target | met | notes |")
    .AppendLine("|---|---|---|---|---|---|---|");
foreach (var result in results)
{
    doc.AppendLine(result.ToMarkdownRow());
}
// Figures from runs too long for this suite (hours of fuzzing, say) are written by hand below a
// "## Long runs" heading; a new table keeps them.
const string LongRuns = "\n## Long runs";
if (File.Exists(output) && await File.ReadAllTextAsync(output) is var previous && previous.IndexOf(LongRuns, StringComparison.Ordinal) is var at and >= 0)
{
    doc.Append(previous[at..]);
}
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
await File.WriteAllTextAsync(output, doc.ToString());
Console.Error.WriteLine($"bench: wrote {output}");
return 0;
