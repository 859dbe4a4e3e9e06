using System.Globalization;
using System.Text;
using Wasmorch.Testing;
using Xunit;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Issue 34, item 10: every <c>wasmorch</c> command in README.md and docs/*.md, and every example
/// of the CLI's help, runs as written. Each one must parse (a renamed flag fails the build, not the
/// reader); the fenced examples that need no hardware, fleet or long-running process run, in the
/// order of their document, against emulated boards named as the docs name them.
/// </summary>
public sealed class DocsExamplesTests
{
    /// <summary>
    /// Why a fenced example is checked but not run here, by its command; null when it runs. Each
    /// reason is a set-up the test does not make: hardware, a fleet of gateways, a process that runs
    /// until stopped, or fixed ports of the reader's machine.
    /// </summary>
    private static string? NotRunBecause(DocExample example)
    {
        var args = example.Args;
        var command = Skip(args);
        return command switch
        {
            _ when example.Background => "runs in the background, beside the lines after it",
            "build" when args.Contains("thumbv7em") || args.Contains("thumbv7") => "needs WAMR's wamrc, which scripts/setup.sh does not install",
            "gateway" or "emulate" => "a server that runs until stopped, on the reader's ports",
            "flash" => "needs a physical board",
            "fleet" => "needs a NATS fleet with its keys",
            "watch" => "runs until Ctrl-C",
            _ when args.Contains("--follow") => "runs until Ctrl-C",
            _ when args.Any(a => a.StartsWith("nats://", StringComparison.Ordinal)) => "needs a NATS fleet",
            _ when args.Any(a => a.StartsWith("serial://", StringComparison.Ordinal) || a.StartsWith("/dev/", StringComparison.Ordinal)) => "needs a serial port",
            _ => null,
        };
    }

    /// <summary>The command word: the first that is not a global option or its value.</summary>
    private static string Skip(IReadOnlyList<string> args)
    {
        string[] withValue = ["--device", "-d", "--selector", "-l", "--parallel", "--gateway", "--token", "--tls-ca"];
        for (var i = 0; i < args.Count; i++)
        {
            if (withValue.Contains(args[i]))
            {
                i++;
            }
            else if (!args[i].StartsWith('-'))
            {
                return args[i];
            }
        }
        return "";
    }

    private static async Task<List<DocExample>> HelpExamplesAsync()
    {
        var examples = new List<DocExample>();
        foreach (var path in await CliHelpTests.CommandPathsAsync())
        {
            foreach (var line in CliHelpTests.Section(await CliHelpTests.HelpAsync(path), "Examples"))
            {
                examples.Add(new DocExample($"wasmorch {path} --help".Replace("  ", " ", StringComparison.Ordinal), line, DocExamples.Words(line), Fenced: false));
            }
        }
        return examples;
    }

    [Fact]
    public async Task Every_wasmorch_command_in_the_docs_and_in_the_help_examples_parses()
    {
        var examples = DocExamples.From(RepoPaths.Root);
        foreach (var example in examples.Where(e => NotRunBecause(e) is not null))
        {
            // Not run: parsed only. (Each reason is in the test's output, for whoever wonders why.)
            Console.WriteLine($"parsed only, {NotRunBecause(example)}: {example}");
        }
        // The extraction finds what it should: README's seed commands, the fleet doc's one that once used -f for --func-name.
        Assert.Contains(examples, e => e.Where.StartsWith("README.md:", StringComparison.Ordinal) && e.Text.StartsWith("wasmorch --device nucleo start ", StringComparison.Ordinal));
        Assert.Contains(examples, e => e.Where.StartsWith("docs/fleet.md:", StringComparison.Ordinal) && e.Args.Contains("start"));
        Assert.True(examples.Count(e => e.Fenced) > 40, $"only {examples.Count(e => e.Fenced)} fenced examples found");
        examples.AddRange(await HelpExamplesAsync());

        var failures = new List<string>();
        using var lanes = new SemaphoreSlim(4);
        await Task.WhenAll(examples.Select(async example =>
        {
            await lanes.WaitAsync();
            try
            {
                // --help parses the whole line, reports a word that is no command or option
                // (exit 2) and runs nothing; a line that names what exists prints its command's help.
                // (Before a "--": what follows it is the function's arguments.)
                var args = example.Args.ToList();
                var end = args.IndexOf("--");
                args.Insert(end < 0 ? args.Count : end, "--help");
                var result = await CliRunner.RunLocalAsync(null, [.. args]);
                if (result.ExitCode != 0 || !result.Stdout.Contains("Usage:", StringComparison.Ordinal))
                {
                    lock (failures)
                    {
                        failures.Add($"{example}\n  exit {result.ExitCode}: {result.Stderr.Trim()}");
                    }
                }
            }
            finally
            {
                lanes.Release();
            }
        }));
        Assert.True(failures.Count == 0, $"{failures.Count} documented command(s) do not parse:\n{string.Join('\n', failures.Order(StringComparer.Ordinal))}");
    }

    [Fact]
    public async Task The_fenced_examples_that_need_no_hardware_run_against_emulated_boards_and_exit_0()
    {
        var examples = DocExamples.From(RepoPaths.Root).Where(e => e.Fenced).ToList();
        var ran = 0;
        var failures = new List<string>();
        // Each document is a session of its own, on fresh boards: what one deploys or leaves
        // running is not in the way of the next.
        foreach (var document in examples.GroupBy(e => e.Where.Split(':')[0]))
        {
            var runnable = document.Where(e => NotRunBecause(e) is null).ToList();
            if (runnable.Count == 0)
            {
                continue;
            }
            var (count, failed) = await RunAsync(runnable);
            ran += count;
            failures.AddRange(failed);
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {ran} documented command(s) failed:\n{string.Join('\n', failures)}");
        Assert.True(ran > 30, $"only {ran} documented commands ran");
    }

    /// <summary>
    /// The examples in order, from a scratch copy of the repository's modules, against a gateway
    /// with the boards the docs name (nucleo, disco, lab, b1, each labelled site=lab1).
    /// </summary>
    private static async Task<(int Ran, List<string> Failures)> RunAsync(List<DocExample> examples)
    {
        var scratch = Directory.CreateTempSubdirectory("wasmorch-docs-").FullName;
        var failures = new List<string>();
        try
        {
            CopyDirectory(Path.Combine(RepoPaths.Root, "modules"), Path.Combine(scratch, "modules"));
            var system = new SystemUnderTest();
            await using var _ = system;
            var boards = new[] { "nucleo", "disco", "lab", "b1" };
            foreach (var board in boards)
            {
                system.StartBoard(board, 0);
            }
            var ports = new Dictionary<string, int>(system.BoardPorts);
            var config = new StringBuilder();
            foreach (var board in boards)
            {
                config.AppendLine(CultureInfo.InvariantCulture, $"[devices.{board}]\nendpoint = \"tcp://127.0.0.1:{ports[board]}\"\nlabels = {{ site = \"lab1\" }}\n");
            }
            var configPath = Path.Combine(scratch, "wasmorch.toml");
            await File.WriteAllTextAsync(configPath, config.ToString());
            system.BoardPorts.Clear();
            system.GatewayArgs.AddRange(["--config", configPath]);
            system.StartGateway();

            // The reader's addresses are this test's: the gateway on 9000, the board nucleo on 7001.
            var addresses = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["127.0.0.1:9000"] = system.Gateway,
                ["tcp://127.0.0.1:7001"] = $"tcp://127.0.0.1:{ports["nucleo"]}",
            };
            var environment = new Dictionary<string, string> { ["WASMORCH_GATEWAY"] = system.Gateway };
            var (cli, leading) = RepoPaths.Cli;
            foreach (var example in examples)
            {
                var args = example.Args.Select(a => addresses.GetValueOrDefault(a, a)).ToList();
                var result = await CliRunner.RunProgramAsync(cli, [.. leading, .. args], environment, TimeSpan.FromSeconds(120), scratch);
                if (result.ExitCode != 0)
                {
                    failures.Add($"{example}\n  exit {result.ExitCode}: {result.Stderr.Trim()}");
                }
            }
            if (failures.Count > 0)
            {
                failures.Add(system.Logs);
            }
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
        return (examples.Count, failures);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
        foreach (var dir in Directory.GetDirectories(from))
        {
            CopyDirectory(dir, Path.Combine(to, Path.GetFileName(dir)));
        }
    }
}
