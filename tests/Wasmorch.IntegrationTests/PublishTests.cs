using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Runs where scripts/publish.sh has made the release matrix and WASMORCH_PUBLISH names it
/// (test.sh does both); elsewhere xunit reports it skipped, with the reason.
/// </summary>
public sealed class PublishedFactAttribute : FactAttribute
{
    public PublishedFactAttribute()
    {
        if (PublishTests.Directory is null)
        {
            Skip = "release matrix: WASMORCH_PUBLISH does not name scripts/publish.sh's output (test.sh sets it)";
        }
    }
}

/// <summary>
/// The release matrix as users get it: the linux-arm64 build (a Raspberry Pi's) running the
/// gateway and the CLI under qemu-user against an emulated board on this x64 machine; the dotnet
/// tool package installed into a fresh tool path; every published file listed with its hash.
/// </summary>
public sealed class PublishTests
{
    public static string? Directory =>
        Environment.GetEnvironmentVariable("WASMORCH_PUBLISH") is { Length: > 0 } dir && System.IO.Directory.Exists(dir) ? dir : null;

    private static string Published(params string[] parts) => Path.Combine([Directory!, .. parts]);

    [PublishedFact]
    public async Task The_linux_arm64_gateway_and_cli_under_qemu_user_build_deploy_and_run_on_an_emulated_board()
    {
        var arm64 = Published("linux-arm64", "wasmorch");
        Assert.Equal("ARM aarch64", ElfMachine(arm64));
        await using var board = RunningProcess.StartCli("emulate", "--board", "pi0=0", "--stop-grace-ms", "300");
        var port = board.WaitForLine(@"board pi0 listening on tcp://127\.0\.0\.1:(\d+)").Groups[1].Value;
        board.WaitForLine("emulator ready");

        var state = Path.Combine(Path.GetTempPath(), $"wasmorch-arm64-{Guid.NewGuid():n}.db");
        await using var gateway = RunningProcess.Start("qemu-aarch64-static", arm64, "gateway", "--port", "0", "--state", state, "--add-device", $"pi0=tcp://127.0.0.1:{port}");
        var address = gateway.WaitForLine(@"gateway listening on (127\.0\.0\.1:\d+)", TimeSpan.FromSeconds(60)).Groups[1].Value;
        try
        {
            var status = await Arm64CliAsync(arm64, "--gateway", address, "--device", "pi0", "status");
            Assert.Matches("(?m)^pi0: state=IDLE ", status);
            var deploy = await Arm64CliAsync(arm64, "--gateway", address, "--device", "pi0", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c"));
            Assert.Matches(@"(?m)^pi0: deployed math_ops size=\d+ crc32=", deploy);
            var start = await Arm64CliAsync(arm64, "--gateway", address, "--device", "pi0", "start", "--module-id", "math_ops", "--func-name", "add", "--func-args", "a=10,b=15", "--wait-result");
            Assert.Matches(@"(?m)^pi0: math_ops\.add job=\d+ status=OK value=25 \(i32\)", start);
        }
        finally
        {
            foreach (var suffix in new[] { "", "-wal", "-shm" })
            {
                File.Delete(state + suffix);
            }
        }
    }

    [PublishedFact]
    public async Task The_dotnet_tool_package_installs_into_a_fresh_tool_path_and_runs_the_demos_first_commands()
    {
        var package = System.IO.Directory.GetFiles(Published("tool"), "wasmorch.*.nupkg").Single();
        var version = Regex.Match(Path.GetFileName(package), @"^wasmorch\.(.+)\.nupkg$").Groups[1].Value;
        var toolPath = System.IO.Directory.CreateTempSubdirectory("wasmorch-tool-").FullName;
        try
        {
            var install = await RunAsync("dotnet", "tool", "install", "--tool-path", toolPath, "--add-source", Published("tool"), "--version", version, "wasmorch");
            Assert.True(install.ExitCode == 0, install.ToString());
            var wasmorch = Path.Combine(toolPath, "wasmorch");
            Assert.StartsWith(version + "+", (await RunAsync(wasmorch, "--version")).Stdout.Trim(), StringComparison.Ordinal);

            // The demo's first steps (demo.sh): an emulated board, a gateway, a build, a deploy, a run.
            await using var board = RunningProcess.Start(wasmorch, "emulate", "--board", "nucleo=0");
            var port = board.WaitForLine(@"board nucleo listening on tcp://127\.0\.0\.1:(\d+)").Groups[1].Value;
            var state = Path.Combine(toolPath, "gateway.db");
            await using var gateway = RunningProcess.Start(wasmorch, "gateway", "--port", "0", "--state", state, "--add-device", $"nucleo=tcp://127.0.0.1:{port}");
            var address = gateway.WaitForLine(@"gateway listening on (127\.0\.0\.1:\d+)").Groups[1].Value;
            var deploy = await RunAsync(wasmorch, "--gateway", address, "--device", "nucleo", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c"));
            Assert.True(deploy.ExitCode == 0, deploy.ToString());
            var start = await RunAsync(wasmorch, "--gateway", address, "--device", "nucleo", "start", "--module-id", "math_ops", "--func-name", "add", "--func-args", "a=10,b=15", "--wait-result");
            Assert.Matches(@"(?m)^nucleo: math_ops\.add job=\d+ status=OK value=25 \(i32\)", start.Stdout);
        }
        finally
        {
            System.IO.Directory.Delete(toolPath, recursive: true);
        }
    }

    [PublishedFact]
    public void Every_published_file_is_listed_with_its_size_and_sha256_and_each_platform_has_its_program()
    {
        var sums = File.ReadAllLines(Published("SHA256SUMS"))
            .Select(l => Regex.Match(l, "^([0-9a-f]{64})  (.+)$"))
            .ToDictionary(m => m.Groups[2].Value, m => m.Groups[1].Value, StringComparer.Ordinal);
        var files = System.IO.Directory.GetFiles(Directory!, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Directory!, f))
            .Where(f => f is not ("SHA256SUMS" or "SIZES"))
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(files, sums.Keys.Order(StringComparer.Ordinal).ToList());
        foreach (var (file, sha256) in sums)
        {
            Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Published(file)))));
        }
        var sizes = File.ReadAllText(Published("SIZES"));
        foreach (var program in new[] { "linux-x64/wasmorch", "linux-arm64/wasmorch", "win-x64/wasmorch.exe", "osx-arm64/wasmorch" })
        {
            Assert.Contains(program, sums.Keys);
            Assert.Matches($@"(?m)^ +{new FileInfo(Published(program)).Length}  {Regex.Escape(program)}$", sizes);
        }
        Assert.Equal("ARM aarch64", ElfMachine(Published("linux-arm64", "wasmorch")));
        Assert.Equal("x86-64", ElfMachine(Published("linux-x64", "wasmorch")));
        Assert.Equal("MZ", System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(Published("win-x64", "wasmorch.exe"))[..2]));
        // Mach-O 64-bit, little-endian: 0xfeedfacf.
        Assert.Equal([0xcf, 0xfa, 0xed, 0xfe], File.ReadAllBytes(Published("osx-arm64", "wasmorch"))[..4]);
    }

    /// <summary>e_machine of an ELF file, by name.</summary>
    private static string ElfMachine(string path)
    {
        var header = File.ReadAllBytes(path)[..20];
        Assert.Equal("\u007fELF"u8.ToArray(), header[..4]);
        return BitConverter.ToUInt16(header, 18) switch
        {
            0xb7 => "ARM aarch64",
            0x3e => "x86-64",
            var other => $"machine 0x{other:x}",
        };
    }

    private static async Task<string> Arm64CliAsync(string arm64, params string[] args)
    {
        var result = await RunAsync("qemu-aarch64-static", [arm64, .. args]);
        Assert.True(result.ExitCode == 0, $"wasmorch (arm64) {string.Join(' ', args)}: {result}");
        return result.Stdout;
    }

    private static Task<CliResult> RunAsync(string program, params string[] args) => CliRunner.RunProgramAsync(program, args, limit: TimeSpan.FromMinutes(3));
}
