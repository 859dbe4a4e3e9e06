using System.Diagnostics;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>Runs where systemd's tools are (Debian with systemd); elsewhere skipped, with the reason.</summary>
public sealed class SystemdFactAttribute : FactAttribute
{
    public SystemdFactAttribute()
    {
        if (!File.Exists("/usr/bin/systemd-analyze"))
        {
            Skip = "systemd unit: systemd-analyze is not installed (a machine without systemd)";
        }
    }
}

/// <summary>
/// The gateway as a service (docs/install.md): `gateway --check-config` as systemd's ExecStartPre
/// runs it, and the journal's log format under JOURNAL_STREAM.
/// </summary>
public sealed class GatewayServiceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wasmorch-service-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Config(string gatewayTable, string devices = "[devices.nucleo]\nendpoint = \"tcp://127.0.0.1:7001\"\n")
    {
        var path = Path.Combine(_dir, "wasmorch.toml");
        File.WriteAllText(path,
            $"[gateway]\nstate = \"{_dir}/state/gateway.db\"\nlink_key = \"{_dir}/link.key\"\n{gatewayTable}\n" +
            $"[build]\ncache_dir = \"{_dir}/cache\"\n\n{devices}");
        return path;
    }

    private static Task<CliResult> CheckAsync(string config) => CliRunner.RunLocalAsync(null, "gateway", "--config", config, "--check-config");

    [Fact]
    public async Task Check_config_reports_each_check_and_exits_0_without_creating_state_or_key()
    {
        var result = await CheckAsync(Config("port = 9311"));
        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"(?m)^ok    listen: 127\.0\.0\.1:9311 \(no token: loopback only\)$", result.Stdout);
        Assert.Matches(@"(?m)^ok    device nucleo: tcp://127\.0\.0\.1:7001$", result.Stdout);
        Assert.Matches(@"(?m)^ok    state: .*/state/gateway\.db \(will be created\)$", result.Stdout);
        Assert.Matches(@"(?m)^ok    link key: .*/link\.key \(will be created\)$", result.Stdout);
        Assert.Matches(@"(?m)^ok    clang: ", result.Stdout);
        Assert.Matches(@"(?m)^configuration ok$", result.Stdout);
        Assert.False(File.Exists(Path.Combine(_dir, "state", "gateway.db")));
        Assert.False(File.Exists(Path.Combine(_dir, "link.key")));
    }

    [Fact]
    public async Task Check_config_fails_with_2_naming_a_public_bind_without_a_token()
    {
        var result = await CheckAsync(Config("bind = \"0.0.0.0\""));
        Assert.Equal(2, result.ExitCode);
        Assert.Matches(@"(?m)^error listen: refusing to listen on 0\.0\.0\.0 without a token", result.Stdout);
        Assert.Matches(@"(?m)^configuration has 1 error\(s\)$", result.Stdout);
    }

    [Fact]
    public async Task Check_config_fails_with_2_naming_a_state_directory_it_cannot_write()
    {
        var path = Path.Combine(_dir, "wasmorch.toml");
        File.WriteAllText(path, $"[gateway]\nstate = \"/proc/wasmorch/gateway.db\"\nlink_key = \"off\"\n[build]\ncache_dir = \"{_dir}/cache\"\n");
        var result = await CheckAsync(path);
        Assert.Equal(2, result.ExitCode);
        Assert.Matches(@"(?m)^error state: /proc/wasmorch is not writable: ", result.Stdout);
    }

    [Fact]
    public async Task Check_config_warns_of_an_absent_tty_and_stops_at_an_unknown_key()
    {
        var absent = await CheckAsync(Config("", "[devices.nucleo]\nendpoint = \"serial:///dev/ttyWASMORCH_NONE?baud=115200\"\n"));
        Assert.Equal(0, absent.ExitCode);
        Assert.Matches(@"(?m)^warn  device nucleo: serial:///dev/ttyWASMORCH_NONE\?baud=115200: /dev/ttyWASMORCH_NONE is not there now", absent.Stdout);

        var unknown = await CheckAsync(Config("prot = 9000"));
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("prot", unknown.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Under_journald_each_log_line_carries_its_syslog_priority_and_no_timestamp()
    {
        var info = new ProcessStartInfo(RepoPaths.Cli.FileName);
        foreach (var arg in (string[])[.. RepoPaths.Cli.LeadingArgs, "gateway", "--config", Config("port = 0"), "-v"])
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["JOURNAL_STREAM"] = "8:12345";
        await using var gateway = RunningProcess.Start(info);
        var address = gateway.WaitForLine(@"gateway listening on (127\.0\.0\.1:\d+)").Groups[1].Value;
        // A request the gateway logs (the device is not there: a warning-free info line either way).
        await CliRunner.RunAsync(address, "--device", "nucleo", "status");
        await Task.Delay(300);
        await gateway.InterruptAsync();
        await gateway.WaitForExitAsync(TimeSpan.FromSeconds(20));
        var lines = gateway.Errors.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, line => line.StartsWith("<6>Wasmorch.Gateway.Api[", StringComparison.Ordinal) && line.Contains("status nucleo", StringComparison.Ordinal));
        Assert.All(lines, line => Assert.Matches(@"^<[0-7]>[A-Za-z.]+\[\d+\] ", line));
    }

    /// <summary>systemd-analyze verify reports unknown keys and bad values only as warnings: none may appear.</summary>
    [SystemdFact]
    public async Task The_systemd_unit_verifies_without_a_warning()
    {
        var unit = Path.Combine(_dir, "wasmorch-gateway.service");
        var text = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "packaging", "systemd", "wasmorch-gateway.service"));
        // verify checks that ExecStart's program exists: point it at this build.
        await File.WriteAllTextAsync(unit, text.Replace("/usr/local/bin/wasmorch", RepoPaths.Cli.FileName, StringComparison.Ordinal));
        await using var verify = RunningProcess.Start("systemd-analyze", "verify", unit);
        Assert.Equal(0, await verify.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.Equal(string.Empty, verify.Errors);
        foreach (var setting in new[] { "DynamicUser=yes", "StateDirectory=wasmorch", "CacheDirectory=wasmorch", "SupplementaryGroups=dialout", "ExecStartPre=/usr/local/bin/wasmorch gateway --config /etc/wasmorch/wasmorch.toml --check-config" })
        {
            Assert.Contains(setting + "\n", text, StringComparison.Ordinal);
        }
    }
}
