using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>Issue 17, module versions (docs/fleet-ops.md): every deploy is a version; rollback puts one back from the gateway's record.</summary>
public sealed class VersionTests
{
    private static string Source(string dir, int version)
    {
        var path = Path.Combine(Directory.CreateDirectory(Path.Combine(dir, $"v{version}")).FullName, "version.c");
        File.WriteAllText(path, $"#include \"wasmorch.h\"\nWASMORCH_EXPORT(\"version\") int32_t version(void) {{ return {version}; }}\n");
        return path;
    }

    private static async Task RunsVersionAsync(SystemUnderTest system, string device, int version)
    {
        var run = await system.CliAsync("--device", device, "start", "--module-id", "v", "--func-name", "version", "--wait-result");
        CliAssert.Exit(0, run);
        Assert.Contains($"value={version} ", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_deploy_is_a_version_and_rollback_puts_the_one_before_back_without_building_across_restarts()
    {
        var work = Directory.CreateTempSubdirectory("wasmorch-versions-").FullName;
        try
        {
            await using var system = new SystemUnderTest();
            system.StartBoard("b1", 0);
            system.StartBoard("b2", 0);
            system.StartGateway();
            foreach (var (version, boards) in new[] { (1, new[] { "b1", "b2" }), (2, new[] { "b1", "b2" }), (3, new[] { "b1" }) })
            {
                var source = Source(work, version);
                foreach (var board in boards)
                {
                    var deploy = await system.CliAsync("--device", board, "build-and-deploy", "--module-id", "v", "--source", source);
                    CliAssert.Exit(0, deploy);
                    Assert.Matches($@"(?m)^{board}: deployed v .* version={version}$", deploy.Stdout);
                }
            }
            // Versions live in the state file: a restarted gateway still has them; the sources are gone.
            await system.RestartGatewayAsync();
            Directory.Delete(work, recursive: true);

            var history = await system.CliAsync("history", "--module-id", "v");
            CliAssert.Exit(0, history);
            var lines = history.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("v version", StringComparison.Ordinal)).ToList();
            Assert.Equal(3, lines.Count);
            Assert.Matches(@"^v version 3 .* built:wasm by \S+@\S+ \(claimed\)  on: b1$", lines[0]);
            Assert.Matches(@"^v version 2 .* built:wasm by \S+@\S+ \(claimed\)  on: b2$", lines[1]);
            Assert.Matches(@"^v version 1 .* built:wasm by \S+@\S+ \(claimed\)$", lines[2]);

            var back = await system.CliAsync("--device", "b1", "rollback", "--module-id", "v");
            CliAssert.Exit(0, back);
            Assert.Matches(@"(?m)^b1: v is version 2 again \(from version 3\) size=\d+ crc32=[0-9a-f]{8}$", back.Stdout);
            await RunsVersionAsync(system, "b1", 2);
            CliAssert.Exit(0, await system.CliAsync("--device", "b1", "rollback", "--module-id", "v"));
            await RunsVersionAsync(system, "b1", 1);
            var first = await system.CliAsync("--device", "b1", "rollback", "--module-id", "v");
            CliAssert.Exit(7, first);
            Assert.Contains("NO_MODULE: device 'b1' holds version 1 of 'v', the first: there is none before it", first.Stderr, StringComparison.Ordinal);
            await RunsVersionAsync(system, "b1", 1);

            // Forward too, to any version.
            CliAssert.Exit(0, await system.CliAsync("--device", "b2", "rollback", "--module-id", "v", "--to", "3"));
            await RunsVersionAsync(system, "b2", 3);
            var missing = await system.CliAsync("--device", "b2", "rollback", "--module-id", "v", "--to", "9");
            CliAssert.Exit(2, missing);
            Assert.Contains("BAD_REQUEST: 'v' has no version 9 (it has 1 to 3)", missing.Stderr, StringComparison.Ordinal);

            var onB1 = await system.CliAsync("--device", "b1", "history", "--module-id", "v");
            CliAssert.Exit(0, onB1);
            Assert.Matches(@"(?m)^v version 1 .*  on: b1$", onB1.Stdout);
            Assert.DoesNotContain("version 3", onB1.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }
    }

    [Fact]
    public async Task A_gateway_without_a_state_file_says_it_keeps_no_versions()
    {
        await using var system = new SystemUnderTest();
        system.StartBoard("b1", 0);
        await using var gateway = RunningProcess.StartCli("gateway", "--port", "0", "--state", "off", "--add-device", $"b1=tcp://127.0.0.1:{system.BoardPorts["b1"]}");
        var address = gateway.WaitForLine(@"gateway listening on (127\.0\.0\.1:\d+)").Groups[1].Value;
        var rollback = await CliRunner.RunAsync(address, "--device", "b1", "rollback", "--module-id", "v");
        CliAssert.Exit(7, rollback);
        Assert.Contains("UNSUPPORTED: this gateway runs without a state file, so it keeps no module versions", rollback.Stderr, StringComparison.Ordinal);
    }
}
