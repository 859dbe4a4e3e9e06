using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// `wasmorch conformance` against the firmware's C core, run on this machine behind a TCP socket
/// (tests/Wasmorch.CoreHost: the core owns the link and every reply byte; an emulated board's
/// runtime answers its board operations). CI has no board and no Zephyr build: this is how the
/// suite reaches the C agent there.
/// </summary>
public sealed class CoreConformanceTests
{
    [Theory]
    // The core offers CAPS but not SIM (its boards have real inputs): one skip.
    [InlineData(false, 1)]
    [InlineData(true, 23)]
    public async Task The_firmware_core_passes_the_conformance_suite(bool baseline, int skipped)
    {
        var key = Path.Combine(Directory.CreateTempSubdirectory("wasmorch-core-key-").FullName, "link.key");
        Wasmorch.Transport.LinkKeyFile.LoadOrCreate(key);
        await using var core = StartCoreHost(baseline ? ["--baseline"] : ["--link-key", key]);
        var port = core.WaitForLine(@"core agent listening on tcp://127\.0\.0\.1:(\d+)").Groups[1].Value;
        var result = await CliRunner.RunAsync("127.0.0.1:1", "conformance", $"tcp://127.0.0.1:{port}", "--link-key", key);
        CliAssert.Exit(0, result);
        Assert.Contains("PASS  load_stall_timeout", result.Stdout, StringComparison.Ordinal);
        Assert.Matches(@$"\d+ passed, 0 failed \(MUST\), 0 warnings \(SHOULD\), {skipped} skipped", result.Stdout);
    }

    /// <summary>
    /// The boards' receive path in front of the core, drained only every 20 ms as a busy COMM loop
    /// would: the suite's 1000 back-to-back lines overrun its 1 KiB ring for real, and the core
    /// still passes, because it says what it lost (RX_OVERRUN) and every payload lands whole.
    /// </summary>
    [Fact]
    public async Task The_firmware_core_passes_the_suite_when_the_link_outruns_its_receive_ring()
    {
        var key = Path.Combine(Directory.CreateTempSubdirectory("wasmorch-core-key-").FullName, "link.key");
        var keyBytes = Wasmorch.Transport.LinkKeyFile.LoadOrCreate(key);
        await using var core = StartCoreHost(["--link-key", key, "--rx-ring", "1024"]);
        var port = int.Parse(core.WaitForLine(@"core agent listening on tcp://127\.0\.0\.1:(\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var result = await CliRunner.RunAsync("127.0.0.1:1", "conformance", $"tcp://127.0.0.1:{port}", "--link-key", key);
        CliAssert.Exit(0, result);
        Assert.Matches(@"\d+ passed, 0 failed \(MUST\), 0 warnings \(SHOULD\), 1 skipped", result.Stdout);

        await using var agent = await AgentClient.ConnectAsync(port);
        await agent.AuthenticateAsync(keyBytes);
        var status = await agent.RequestAsync("STATUS");
        Assert.True(status.TryGetInt64("rx_overruns", out var overruns) && overruns > 0, $"the burst should have overrun the ring: {status}");
    }

    private static RunningProcess StartCoreHost(string[] options)
    {
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var dll = Path.Combine(RepoPaths.Root, "tests", "Wasmorch.CoreHost", "bin", configuration, "net10.0", "Wasmorch.CoreHost.dll");
        return RunningProcess.Start("dotnet", [dll, "--port", "0", .. options]);
    }
}
