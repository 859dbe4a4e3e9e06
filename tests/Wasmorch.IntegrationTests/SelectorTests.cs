using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Issue 17, labels and selectors (docs/fleet-ops.md): a device command on every device whose
/// labels match, in parallel, one line per device, a summary, the worst device's exit code.
/// </summary>
public sealed class SelectorTests
{
    /// <summary>Boards b1..b4 (b1-b3 at site lab1, b4 at lab2) and "ghost" at lab1, whose board is off.</summary>
    private static async Task<(SystemUnderTest System, string Config)> LabelledAsync(string extraToml = "")
    {
        var system = new SystemUnderTest();
        foreach (var board in new[] { "b1", "b2", "b3", "b4" })
        {
            system.StartBoard(board, 0);
        }
        var config = Path.Combine(Path.GetTempPath(), $"wasmorch-labels-{Guid.NewGuid():n}.toml");
        var toml = string.Join("", system.BoardPorts.Select(b =>
            $"[devices.{b.Key}]\nendpoint = \"tcp://127.0.0.1:{b.Value}\"\nlabels = {{ site = \"{(b.Key == "b4" ? "lab2" : "lab1")}\", shelf = \"s{b.Key[1..]}\" }}\n"));
        toml += $"[devices.ghost]\nendpoint = \"tcp://127.0.0.1:{TcpPorts.Unused()}\"\nlabels = {{ site = \"lab1\" }}\n" + extraToml;
        // Links on first use only: what a board says of itself (board, runtime) is known once it has spoken,
        // which these tests control (LinkKeeperTests has links kept open from the start).
        toml = "[gateway]\nkeep_links = false\n" + toml;
        await File.WriteAllTextAsync(config, toml);
        system.GatewayArgs.AddRange(["--config", config]);
        return (system, config);
    }

    [Fact]
    public async Task A_selector_runs_the_command_on_every_match_and_exits_with_the_worst_devices_code()
    {
        var (system, config) = await LabelledAsync();
        await using var _ = system;
        try
        {
            system.StartGateway();
            var deploy = await system.CliAsync("--selector", "site=lab1", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c"));
            // ghost is unreachable (exit 4): the worst; b1-b3 are served all the same.
            CliAssert.Exit(4, deploy);
            foreach (var board in new[] { "b1", "b2", "b3" })
            {
                Assert.Matches($@"(?m)^{board}: deployed math_ops size=\d+", deploy.Stdout);
            }
            Assert.DoesNotContain("b4", deploy.Stdout, StringComparison.Ordinal);
            Assert.Contains("ghost: error: DEVICE_UNREACHABLE", deploy.Stderr, StringComparison.Ordinal);
            Assert.Contains("build-and-deploy on 'site=lab1': 4 device(s), 3 ok, 1 failed", deploy.Stdout, StringComparison.Ordinal);

            // key!=value excludes; b4 (lab2) never got the module.
            var run = await system.CliAsync("--selector", "site=lab1,shelf!=s3,shelf!=s4", "--parallel", "2", "start", "--module-id", "math_ops", "--func-name", "add", "--func-args", "a=10,b=15", "--wait-result");
            CliAssert.Exit(4, run);
            Assert.Matches(@"(?m)^b1: math_ops\.add job=1 status=OK value=25", run.Stdout);
            Assert.Matches(@"(?m)^b2: math_ops\.add job=1 status=OK value=25", run.Stdout);
            Assert.DoesNotContain("b3", run.Stdout, StringComparison.Ordinal);
            Assert.Contains("start on 'site=lab1,shelf!=s3,shelf!=s4': 3 device(s), 2 ok, 1 failed", run.Stdout, StringComparison.Ordinal);
            CliAssert.Exit(7, await system.CliAsync("--device", "b4", "start", "--module-id", "math_ops", "--func-name", "add", "--func-args", "1,2", "--wait-result"));

            // Only reachable boards: every one ok, exit 0.
            var lab2 = await system.CliAsync("--selector", "site=lab2", "status");
            CliAssert.Exit(0, lab2);
            Assert.Contains("status on 'site=lab2': 1 device(s), 1 ok, 0 failed", lab2.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public async Task A_board_is_labelled_with_what_its_hello_says_once_it_has_spoken()
    {
        var (system, config) = await LabelledAsync();
        await using var _ = system;
        try
        {
            system.StartGateway();
            CliAssert.Exit(0, await system.CliAsync("--device", "b2", "status"));
            var devices = await system.CliAsync("devices");
            CliAssert.Exit(0, devices);
            Assert.Matches(@"(?m)^b2\s+\S+\s+connected  labels=board=b2,runtime=wasmtime,runtime_version=[0-9.]+,shelf=s2,site=lab1$", devices.Stdout);
            Assert.Matches(@"(?m)^b3\s+\S+\s+not connected  labels=shelf=s3,site=lab1$", devices.Stdout);
            var byBoard = await system.CliAsync("--json", "--selector", "board=b2", "status");
            CliAssert.Exit(0, byBoard);
            var lines = byBoard.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, lines.Length);
            Assert.Contains("\"device\":\"b2\"", lines[0], StringComparison.Ordinal);
            Assert.Equal("{\"command\":\"status\",\"selector\":\"board=b2\",\"devices\":1,\"ok\":1,\"failed\":0,\"exit_code\":0}", lines[1]);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Theory]
    [InlineData(new[] { "--selector", "rack=r1", "status" }, "selector 'rack=r1': no device has a label 'rack' (labels: shelf, site)")]
    [InlineData(new[] { "--selector", "site=lab9", "status" }, "selector 'site=lab9' matches none of the 5 device(s)")]
    [InlineData(new[] { "--selector", "site", "status" }, "selector term 'site' is not key=value or key!=value")]
    [InlineData(new[] { "--selector", "Site=lab1", "status" }, "label key 'Site' must be 1 to 63 of a-z 0-9 _ . -")]
    [InlineData(new[] { "--selector", "site=lab1", "--device", "b1", "status" }, "give --device or --selector, not both")]
    [InlineData(new[] { "--selector", "site=lab1", "--parallel", "0", "status" }, "--parallel 0 is out of range (1 to 256)")]
    public async Task A_selector_that_cannot_match_is_a_usage_error_before_anything_is_sent(string[] args, string message)
    {
        var (system, config) = await LabelledAsync();
        await using var _ = system;
        try
        {
            system.StartGateway();
            var result = await system.CliAsync(args);
            CliAssert.Exit(2, result);
            Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("status=", result.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Theory]
    [InlineData("labels = { site = 3 }", "[devices.extra] labels.site: must be a string (in quotes), not 3")]
    [InlineData("labels = { board = \"f446re\" }", "[devices.extra] labels.board: 'board' is set by the board itself (HELLO_OK) or the fleet, not in the device map")]
    [InlineData("labels = { site = \"lab 1\" }", "[devices.extra] labels.site: 'lab 1' is not a label value")]
    [InlineData("labels = \"site=lab1\"", "[devices.extra] labels: must be a table of strings")]
    public async Task A_wrong_label_in_the_device_map_stops_the_gateway_naming_it(string labels, string message)
    {
        var config = Path.Combine(Path.GetTempPath(), $"wasmorch-labels-{Guid.NewGuid():n}.toml");
        await File.WriteAllTextAsync(config, $"[devices.extra]\nendpoint = \"tcp://127.0.0.1:1\"\n{labels}\n");
        try
        {
            var result = await CliRunner.RunAsync("127.0.0.1:1", "gateway", "--port", "0", "--state", "off", "--config", config);
            CliAssert.Exit(2, result);
            Assert.Contains(message, result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(config);
        }
    }
}
