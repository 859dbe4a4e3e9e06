using System.Text.Json;
using System.Text.RegularExpressions;
using Wasmorch.Testing;
using Xunit;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Issue 34, item 7: help that teaches. Every command's --help ends with examples; the global
/// options appear only where they apply; a short flag means one thing across the CLI; a mistyped
/// command or option is answered with what was meant; logs and events take --limit.
/// </summary>
public sealed partial class CliHelpTests
{
    /// <summary>Every command's path ("rollout start"), found by walking the help's Commands sections from the root.</summary>
    public static async Task<List<string>> CommandPathsAsync()
    {
        var paths = new List<string>();
        var pending = new Queue<string>([""]);
        while (pending.Count > 0)
        {
            var path = pending.Dequeue();
            paths.Add(path);
            foreach (var sub in Section(await HelpAsync(path), "Commands").Select(row => row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]))
            {
                pending.Enqueue(path.Length == 0 ? sub : $"{path} {sub}");
            }
        }
        return paths;
    }

    public static async Task<string> HelpAsync(string path)
    {
        var result = await CliRunner.RunLocalAsync(null, [.. path.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"]);
        CliAssert.Exit(0, result);
        return result.Stdout;
    }

    /// <summary>The rows of one section of a help text ("Options", "Commands", "Examples"): each line indented by exactly two spaces.</summary>
    public static List<string> Section(string help, string name)
    {
        var rows = new List<string>();
        var inside = false;
        foreach (var line in help.Split('\n'))
        {
            if (!line.StartsWith(' ') && line.Length > 0)
            {
                inside = line.TrimEnd() == $"{name}:";
                continue;
            }
            if (inside && line.StartsWith("  ", StringComparison.Ordinal) && !line.StartsWith("   ", StringComparison.Ordinal))
            {
                rows.Add(line.Trim());
            }
        }
        return rows;
    }

    [Fact]
    public async Task Every_commands_help_ends_with_two_or_three_examples_that_start_with_wasmorch()
    {
        var paths = await CommandPathsAsync();
        Assert.Contains("rollout start", paths);
        Assert.Contains("gpio set", paths);
        foreach (var path in paths)
        {
            var help = await HelpAsync(path);
            var examples = Section(help, "Examples");
            Assert.True(examples.Count is >= 2 and <= 3, $"wasmorch {path} --help has {examples.Count} examples:\n{help}");
            Assert.All(examples, e => Assert.StartsWith("wasmorch ", e, StringComparison.Ordinal));
            // The examples are the help's last section.
            Assert.Matches(@"Examples:\n(  .*\n|      .*\n)+$", help.Replace("\r", "", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("gateway")]
    [InlineData("emulate")]
    [InlineData("doctor")]
    [InlineData("keygen")]
    [InlineData("build")]
    [InlineData("flash")]
    public async Task A_command_that_acts_on_no_device_lists_no_device_options_and_refuses_device_before_it(string command)
    {
        var options = string.Join('\n', Section(await HelpAsync(command), "Options"));
        Assert.DoesNotContain("--device", options, StringComparison.Ordinal);
        Assert.DoesNotContain("--selector", options, StringComparison.Ordinal);
        Assert.DoesNotContain("--parallel", options, StringComparison.Ordinal);

        var before = await CliRunner.RunLocalAsync(null, "--device", "nucleo", command);
        CliAssert.Exit(2, before);
        Assert.StartsWith($"error: wasmorch {command} does not take --device (wasmorch {command} --help lists what it takes)\n", before.Stderr, StringComparison.Ordinal);
        var after = await CliRunner.RunLocalAsync(null, command, "-d", "nucleo");
        CliAssert.Exit(2, after);
        Assert.StartsWith($"error: wasmorch {command} does not take --device", after.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Device_commands_list_the_device_and_connection_options_and_only_gateway_and_emulate_list_verbose()
    {
        foreach (var path in new[] { "start", "deploy", "run", "gpio set" })
        {
            var options = string.Join('\n', Section(await HelpAsync(path), "Options"));
            Assert.Contains("-d, --device", options, StringComparison.Ordinal);
            Assert.Contains("-l, --selector", options, StringComparison.Ordinal);
            Assert.Contains("--gateway", options, StringComparison.Ordinal);
            Assert.Contains("--json", options, StringComparison.Ordinal);
            Assert.DoesNotContain("--verbose", options, StringComparison.Ordinal);
        }
        foreach (var path in new[] { "gateway", "emulate" })
        {
            var options = string.Join('\n', Section(await HelpAsync(path), "Options"));
            Assert.Contains("-v, --verbose", options, StringComparison.Ordinal);
            Assert.DoesNotContain("--gateway ", options, StringComparison.Ordinal);
        }
        // rollout start acts on a selector's devices, never one --device.
        var rollout = string.Join('\n', Section(await HelpAsync("rollout start"), "Options"));
        Assert.Contains("-l, --selector", rollout, StringComparison.Ordinal);
        Assert.DoesNotContain("-d, --device", rollout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_short_flag_means_one_long_option_across_the_whole_cli()
    {
        var meanings = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var path in await CommandPathsAsync())
        {
            foreach (var row in Section(await HelpAsync(path), "Options"))
            {
                var names = OptionNames().Match(row).Groups[1].Value.Split(", ");
                var longName = names.LastOrDefault(n => n.StartsWith("--", StringComparison.Ordinal));
                foreach (var shortName in names.Where(n => n.Length == 2 && n[0] == '-' && n != "-h" && n != "-?"))
                {
                    (meanings.TryGetValue(shortName, out var set) ? set : meanings[shortName] = [])
                        .Add($"{longName}");
                }
            }
        }
        Assert.All(meanings, m => Assert.True(m.Value.Count == 1, $"{m.Key} means {string.Join(" and ", m.Value)}"));
        Assert.Equal(["--file"], meanings["-f"]);
        Assert.Equal(["--func-name"], meanings["-F"]);
        Assert.Equal(["--port"], meanings["-p"]);
        Assert.Equal(["--limit"], meanings["-n"]);
    }

    [Theory]
    [InlineData(new[] { "strat" }, "error: unknown command 'strat'; did you mean start?")]
    [InlineData(new[] { "-d", "nucleo", "stauts" }, "error: unknown command 'stauts'; did you mean status?")]
    [InlineData(new[] { "rollout", "stat" }, "error: unknown command 'stat' of wasmorch rollout; did you mean start?")]
    [InlineData(new[] { "-d", "nucleo", "start", "-m", "math_ops", "--fucn-name", "add" }, "error: wasmorch start has no option --fucn-name; did you mean --func-name?")]
    public async Task A_mistyped_command_or_option_exits_2_and_names_what_was_meant(string[] args, string expected)
    {
        var result = await CliRunner.RunLocalAsync(null, args);
        CliAssert.Exit(2, result);
        Assert.StartsWith(expected + "\n", result.Stderr, StringComparison.Ordinal);
        Assert.Equal(1, Regex.Count(result.Stderr, "^error: ", RegexOptions.Multiline));
    }

    [Fact]
    public async Task Logs_f_says_that_f_is_file_elsewhere_and_suggests_follow()
    {
        var result = await CliRunner.RunLocalAsync(null, "logs", "-f");
        CliAssert.Exit(2, result);
        Assert.StartsWith("error: wasmorch logs has no option -f (-f is --file in deploy, apply, diff); did you mean --follow?\n", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_and_events_limit_prints_the_newest_n_entries()
    {
        await using var system = await SystemUnderTest.StartAsync("nucleo");
        CliAssert.Exit(0, await system.CliAsync("-d", "nucleo", "build-and-deploy", "-m", "counter", "-s", RepoPaths.Module("counter.c")));
        // count(5, 0) logs 1, 2, 3, 4, 5 and "done".
        CliAssert.Exit(0, await system.CliAsync("-d", "nucleo", "start", "-m", "counter", "-F", "count", "-a", "5,0", "--wait-result"));
        List<string> messages = [];
        await LinkFaultTests.EventuallyAsync(async () =>
        {
            messages = LogMessages(await system.CliAsync("--json", "-d", "nucleo", "logs"));
            return messages.Contains("done");
        }, TimeSpan.FromSeconds(10));
        Assert.Equal(["1", "2", "3", "4", "5", "done"], messages);
        Assert.Equal(["5", "done"], LogMessages(await system.CliAsync("--json", "-d", "nucleo", "logs", "--limit", "2")));
        Assert.Equal(["done"], LogMessages(await system.CliAsync("--json", "-d", "nucleo", "logs", "-n", "1")));
        var text = await system.CliAsync("-d", "nucleo", "logs", "--limit", "2");
        CliAssert.Exit(0, text);
        Assert.Equal(2, Regex.Count(text.Stdout, @"^\S+ nucleo counter job=1: ", RegexOptions.Multiline));

        CliAssert.Exit(0, await system.CliAsync("-d", "nucleo", "build-and-deploy", "-m", "thermostat", "-s", RepoPaths.Module("thermostat.c")));
        // run(10, 4): four readings, each published as topic temp; the simulated sensor reads 22.5 °C, then 30.
        CliAssert.Exit(0, await system.CliAsync("-d", "nucleo", "start", "-m", "thermostat", "-F", "run", "-a", "10,4", "--wait-result"));
        var all = await system.CliAsync("--json", "-d", "nucleo", "events", "--topic", "temp");
        CliAssert.Exit(0, all);
        using var allJson = JsonDocument.Parse(all.Stdout);
        Assert.Equal(4, allJson.RootElement.GetProperty("events").GetArrayLength());
        var two = await system.CliAsync("--json", "-d", "nucleo", "events", "--topic", "temp", "--limit", "2");
        CliAssert.Exit(0, two);
        using var twoJson = JsonDocument.Parse(two.Stdout);
        var events = twoJson.RootElement.GetProperty("events");
        Assert.Equal(2, events.GetArrayLength());
        // The newest two: the last two of the four, in the same order.
        Assert.Equal(allJson.RootElement.GetProperty("events")[2].GetRawText(), events[0].GetRawText());
        Assert.Equal(allJson.RootElement.GetProperty("events")[3].GetRawText(), events[1].GetRawText());

        var outOfRange = await system.CliAsync("logs", "--limit", "0");
        CliAssert.Exit(2, outOfRange);
        Assert.Equal("error: --limit 0 is out of range (1 to 1000)\n", outOfRange.Stderr);
    }

    private static List<string> LogMessages(CliResult result)
    {
        CliAssert.Exit(0, result);
        using var json = JsonDocument.Parse(result.Stdout);
        return [.. json.RootElement.GetProperty("logs").EnumerateArray().Select(e => e.GetProperty("message").GetString()!)];
    }

    [GeneratedRegex(@"^((?:-{1,2}[\w?-]+)(?:, -{1,2}[\w?-]+)*)")]
    private static partial Regex OptionNames();
}
