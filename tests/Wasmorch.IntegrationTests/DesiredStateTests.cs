using System.Globalization;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Issue 17, desired state (docs/fleet-ops.md): apply converges 50 labelled emulated boards, the
/// gateway re-converges the 5 whose emulator is killed and restarted without anyone asking, and a
/// wrong file is refused before anything is touched.
/// </summary>
public sealed class DesiredStateTests
{
    private sealed class Lab : IAsyncDisposable
    {
        public required string Dir { get; init; }

        public required SystemUnderTest System { get; init; }

        public required RunningProcess Main { get; init; }

        public RunningProcess? Five { get; set; }

        public required int[] FivePorts { get; init; }

        public async ValueTask DisposeAsync()
        {
            await System.DisposeAsync();
            await Main.DisposeAsync();
            if (Five is not null)
            {
                await Five.DisposeAsync();
            }
            Directory.Delete(Dir, recursive: true);
        }
    }

    /// <summary>45 boards p0..p44 in one emulator, 5 boards q0..q4 in another on fixed ports (so it can come back), all labelled fleet=f1, group=p|q.</summary>
    private static async Task<Lab> StartLabAsync()
    {
        var dir = Directory.CreateTempSubdirectory("wasmorch-desired-").FullName;
        var main = RunningProcess.StartCli(["emulate", "--stop-grace-ms", "300", .. Enumerable.Range(0, 45).SelectMany(i => new[] { "--board", $"p{i}=0" })]);
        var ports = new Dictionary<string, int>();
        for (var i = 0; i < 45; i++)
        {
            ports[$"p{i}"] = int.Parse(main.WaitForLine($@"board p{i} listening on tcp://127\.0\.0\.1:(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        }
        var fivePorts = Enumerable.Range(0, 5).Select(_ => TcpPorts.Unused()).ToArray();
        var lab = new Lab { Dir = dir, System = new SystemUnderTest(), Main = main, FivePorts = fivePorts };
        lab.Five = StartFive(fivePorts);
        for (var i = 0; i < 5; i++)
        {
            ports[$"q{i}"] = fivePorts[i];
        }
        var config = Path.Combine(dir, "wasmorch.toml");
        await File.WriteAllTextAsync(config, string.Concat(ports.Select(p =>
            $"[devices.{p.Key}]\nendpoint = \"tcp://127.0.0.1:{p.Value}\"\nlabels = {{ fleet = \"f1\", group = \"{p.Key[0]}\" }}\n")));
        lab.System.GatewayArgs.AddRange(["--config", config]);
        lab.System.StartGateway();
        await File.WriteAllTextAsync(Path.Combine(dir, "version.c"), "#include \"wasmorch.h\"\nWASMORCH_EXPORT(\"version\") int32_t version(void) { return 1; }\n");
        File.Copy(RepoPaths.Module("math_ops.c"), Path.Combine(dir, "math_ops.c"));
        return lab;
    }

    private static RunningProcess StartFive(int[] ports)
    {
        var five = RunningProcess.StartCli(["emulate", "--stop-grace-ms", "300", .. ports.SelectMany((p, i) => new[] { "--board", $"q{i}={p}" })]);
        five.WaitForLine("emulator ready");
        return five;
    }

    private static string Manifest(Lab lab, string body)
    {
        var path = Path.Combine(lab.Dir, $"fleet-{Guid.NewGuid():n}.toml");
        File.WriteAllText(path, body);
        return path;
    }

    private const string Wanted = """
        [[module]]
        id = "v"
        source = "version.c"
        selector = "fleet=f1"
        autostart = "version"

        [[module]]
        id = "math_ops"
        source = "math_ops.c"
        selector = "group=q"
        """;

    [Fact]
    public async Task Apply_converges_50_boards_and_the_gateway_brings_back_5_that_restart()
    {
        await using var lab = await StartLabAsync();
        var system = lab.System;
        var manifest = Manifest(lab, Wanted);

        var plan = await system.CliAsync("apply", "--file", manifest, "--dry-run");
        CliAssert.Exit(0, plan);
        Assert.Contains("50 device(s): 55 missing, 0 different, 0 same, 0 extra, 0 unreachable", plan.Stdout, StringComparison.Ordinal);
        Assert.Contains("modules=-", (await system.CliAsync("--device", "p7", "status")).Stdout, StringComparison.Ordinal);

        var applied = await system.CliAsync("apply", "--file", manifest);
        CliAssert.Exit(0, applied);
        Assert.Contains("50 device(s): 55 missing, 0 different, 0 same, 0 extra, 0 unreachable; 55 deployed, 0 failed", applied.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^q3\s+math_ops\s+missing -> version 1: deployed$", applied.Stdout);
        Assert.Matches(@"(?m)^q3\s+v\s+missing -> version 1: started$", applied.Stdout);
        var diff = await system.CliAsync("diff");
        CliAssert.Exit(0, diff);
        Assert.Contains("50 device(s): 0 missing, 0 different, 55 same, 0 extra, 0 unreachable", diff.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"v\.version\(\) OK value=1 ", (await system.CliAsync("--device", "p7", "jobs")).Stdout);

        // The five boards lose power and come back empty: the gateway puts their modules back and starts v again.
        await lab.Five!.DisposeAsync();
        lab.Five = StartFive(lab.FivePorts);
        CliResult? after = null;
        await LinkFaultTests.EventuallyAsync(async () => (after = await system.CliAsync("diff")).Stdout.Contains("55 same", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        Assert.Contains("50 device(s): 0 missing, 0 different, 55 same, 0 extra, 0 unreachable", after!.Stdout, StringComparison.Ordinal);
        CliResult? jobs = null;
        await LinkFaultTests.EventuallyAsync(async () => System.Text.RegularExpressions.Regex.Count((jobs = await system.CliAsync("--device", "q2", "jobs")).Stdout, @"v\.version\(\) OK value=1 ") == 2, TimeSpan.FromSeconds(10));
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(jobs!.Stdout, @"v\.version\(\) OK value=1 "));

        // The desired state outlives the gateway: restarted, it still knows what should be where.
        await system.RestartGatewayAsync();
        var kept = await system.CliAsync("diff");
        CliAssert.Exit(0, kept);
        Assert.Contains("50 device(s): 0 missing, 0 different, 55 same, 0 extra, 0 unreachable", kept.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[[module]]\nid = \"v\"\nsorce = \"version.c\"\nselector = \"fleet=f1\"\n", 2, "[[module]] #1 sorce: unknown setting; did you mean source?")]
    [InlineData("[[module]]\nid = \"v\"\nsource = \"version.c\"\nselector = \"fleet=f9\"\n", 2, "BAD_REQUEST: desired[0] (v): selector 'fleet=f9' matches none of the 50 device(s)")]
    [InlineData("[[module]]\nid = \"v\"\nsource = \"version.c\"\nselector = \"rack=r1\"\n", 2, "BAD_REQUEST: desired[0] (v): no device has a label 'rack'")]
    [InlineData("[[module]]\nid = \"v\"\nsource = \"version.c\"\nselector = \"fleet=f1\"\n[[module]]\nid = \"v\"\nsource = \"math_ops.c\"\nselector = \"group=q\"\n", 2,
        "the desired state contradicts itself")]
    [InlineData("[[module]]\nid = \"v\"\nsource = \"version.c\"\nwasm = \"v.wasm\"\nselector = \"fleet=f1\"\n", 2, "[[module]] #1: give exactly one of source (a C file) and wasm (a module file)")]
    [InlineData("[[module]]\nid = \"v\"\nsource = \"version.c\"\nselector = \"fleet=f1\"\nautostart = \"not a function\"\n", 2, "autostart 'not a function' is not func[:args]")]
    public async Task A_wrong_desired_state_is_refused_before_anything_is_touched(string body, int exit, string message)
    {
        await using var lab = await StartLabAsync();
        var result = await lab.System.CliAsync("apply", "--file", Manifest(lab, body));
        CliAssert.Exit(exit, result);
        Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        Assert.Contains("modules=-", (await lab.System.CliAsync("--device", "q0", "status")).Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// Issue 30 item 20: a desired entry the device refuses (UNSIGNED: it takes only signed modules)
    /// is not tried again every second with a warning each time: it waits longer after each refusal,
    /// the gateway warns once, and diff shows the refusal on the entry's line.
    /// </summary>
    [Fact]
    public async Task A_refused_entry_is_tried_again_less_and_less_often_warned_about_once_and_shown_by_diff()
    {
        var dir = Directory.CreateTempSubdirectory("wasmorch-refused-").FullName;
        try
        {
            var key = Path.Combine(dir, "key");
            CliAssert.Exit(0, await CliRunner.RunAsync("127.0.0.1:1", "keygen", "--out", key));
            await using var system = new SystemUnderTest();
            system.StartBoard("secure", 0);
            var config = Path.Combine(dir, "gw.toml");
            await File.WriteAllTextAsync(config,
                $"[signing]\ntrusted_keys = [\"{(await File.ReadAllTextAsync(key + ".pub")).Trim()}\"]\n" +
                $"[devices.secure]\nendpoint = \"tcp://127.0.0.1:{system.BoardPorts["secure"]}\"\nrequire_signed = true\nlabels = {{ group = \"s\" }}\n");
            system.BoardPorts.Clear();
            system.GatewayArgs.AddRange(["--config", config]);
            system.StartGateway();
            File.Copy(RepoPaths.Module("math_ops.c"), Path.Combine(dir, "math_ops.c"));
            var manifest = Path.Combine(dir, "desired.toml");
            await File.WriteAllTextAsync(manifest, "[[module]]\nid = \"m\"\nsource = \"math_ops.c\"\nselector = \"group=s\"\n");

            var applied = await system.CliAsync("apply", "--file", manifest);
            CliAssert.Exit(7, applied);
            Assert.Matches(@"(?m)^secure\s+m\s+missing: failed UNSIGNED: .+ \(refused 1 time\(s\); tried again in 1 s\)$", applied.Stdout);

            // The second try comes a second later; the third only two seconds after that.
            CliResult? diff = null;
            await LinkFaultTests.EventuallyAsync(async () => (diff = await system.CliAsync("diff")).Stdout.Contains("(refused 2 time(s)", StringComparison.Ordinal), TimeSpan.FromSeconds(10));
            CliAssert.Exit(12, diff!);
            Assert.Matches(@"(?m)^secure\s+m\s+missing UNSIGNED: .+ \(refused 2 time\(s\); tried again in [12] s\)$", diff!.Stdout);
            Assert.Equal(1, System.Text.RegularExpressions.Regex.Count(system.GatewayOutput, "refused m: UNSIGNED"));
            Assert.DoesNotContain("could not be deployed", system.GatewayOutput, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Issue 34, item 6: `diff` is a drift check a script can act on: exit 0 when every device is as
    /// desired, 12 when any is not (typed in --json), and without a desired state it says so.
    /// </summary>
    [Fact]
    public async Task Diff_exits_12_on_drift_0_when_converged_and_says_when_there_is_no_desired_state()
    {
        var dir = Directory.CreateTempSubdirectory("wasmorch-drift-").FullName;
        try
        {
            await using var system = new SystemUnderTest();
            system.StartBoard("b1", 0);
            var config = Path.Combine(dir, "gw.toml");
            await File.WriteAllTextAsync(config, $"[devices.b1]\nendpoint = \"tcp://127.0.0.1:{system.BoardPorts["b1"]}\"\nlabels = {{ group = \"t\" }}\n");
            system.BoardPorts.Clear();
            system.GatewayArgs.AddRange(["--config", config]);
            system.StartGateway();
            var nothing = await system.CliAsync("diff");
            CliAssert.Exit(0, nothing);
            Assert.StartsWith("no desired state: `wasmorch apply -f FILE` declares one (docs/fleet-ops.md)\n", nothing.Stdout, StringComparison.Ordinal);

            File.Copy(RepoPaths.Module("math_ops.c"), Path.Combine(dir, "math_ops.c"));
            var manifest = Path.Combine(dir, "desired.toml");
            await File.WriteAllTextAsync(manifest, "[[module]]\nid = \"m\"\nsource = \"math_ops.c\"\nselector = \"group=t\"\n");
            var planned = await system.CliAsync("--json", "diff", "--file", manifest);
            CliAssert.Exit(12, planned);
            using (var plan = System.Text.Json.JsonDocument.Parse(planned.Stdout))
            {
                Assert.Equal(12, plan.RootElement.GetProperty("exit_code").GetInt32());
                var step = Assert.Single(plan.RootElement.GetProperty("plan").EnumerateArray());
                Assert.Equal(("b1", "m", "missing"), (step.GetProperty("device").GetString(), step.GetProperty("module_id").GetString(), step.GetProperty("state").GetString()));
            }
            CliAssert.Exit(0, await system.CliAsync("apply", "--file", manifest));
            var converged = await system.CliAsync("--json", "diff");
            CliAssert.Exit(0, converged);
            using (var plan = System.Text.Json.JsonDocument.Parse(converged.Stdout))
            {
                Assert.Equal("same", Assert.Single(plan.RootElement.GetProperty("plan").EnumerateArray()).GetProperty("state").GetString());
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
