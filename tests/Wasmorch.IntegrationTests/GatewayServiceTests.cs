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

    public static TheoryData<string, string, string, string> StartRefusals => new()
    {
        { "http off loopback without a token", "link_key = \"off\"\nhttp = \"0.0.0.0:9080\"", "", "http: refusing to serve HTTP on 0.0.0.0:9080 without a token" },
        { "http by name", "link_key = \"off\"\nhttp = \"localhost:9080\"", "", "http: http 'localhost:9080' is not address:port with an IP address" },
        { "otlp without a scheme", "link_key = \"off\"\notlp = \"127.0.0.1:4318\"", "", "otlp: otlp '127.0.0.1:4318' is not an OTLP/HTTP collector URL" },
        { "a garbage trusted key", "link_key = \"off\"", "[signing]\ntrusted_keys = [\"not-a-key\"]\n", "signing: [signing] trusted key 'not-a-key' is not a base64 Ed25519 public key" },
        { "a fleet name with a dot", "link_key = \"off\"", "[fleet]\nnats = \"nats://127.0.0.1:1\"\nname = \"gw-a\"\nfleet = \"a.b\"\n", "fleet name: fleet 'a.b' must be 1 to 64 of A-Z a-z 0-9 _ -" },
        { "a fleet without this gateway's name", "link_key = \"off\"", "[fleet]\nnats = \"nats://127.0.0.1:1\"\n", "fleet name: joining a fleet needs this gateway's name in it" },
        { "a link key through a file", "link_key = \"/etc/passwd/link.key\"", "", "link key: link key /etc/passwd/link.key cannot be created: /etc/passwd is a file, not a folder" },
    };

    /// <summary>Issue 30, item 11: what the start refuses, --check-config refuses too, with the same words.</summary>
    [Theory]
    [MemberData(nameof(StartRefusals))]
    public async Task Check_config_and_the_start_refuse_the_same_configurations_with_the_same_message(string what, string gatewayLines, string tables, string message)
    {
        var path = Path.Combine(_dir, "wasmorch.toml");
        File.WriteAllText(path, $"[gateway]\nstate = \"off\"\nport = 0\n{gatewayLines}\n[build]\ncache_dir = \"{_dir}/cache\"\n{tables}");
        var check = await CheckAsync(path);
        Assert.True(check.ExitCode == 2, $"{what}: --check-config exited {check.ExitCode}\n{check.Stdout}");
        Assert.Contains("error " + message, check.Stdout, StringComparison.Ordinal);
        var start = await CliRunner.RunLocalAsync(null, "gateway", "--config", path);
        Assert.True(start.ExitCode == 2, $"{what}: the start exited {start.ExitCode}\n{start.Stdout}{start.Stderr}");
        Assert.Contains("error: " + message, start.Stderr, StringComparison.Ordinal);
        Assert.Equal("", start.Stdout);
    }

    [Fact]
    public async Task A_key_given_twice_is_refused_naming_both_places()
    {
        var path = Path.Combine(_dir, "wasmorch.toml");
        File.WriteAllText(path, "[gateway]\ntoken = \"first-token-0123456789\"\nport = 9000\ntoken = \"second-token-0123456789\"\n");
        var check = await CheckAsync(path);
        Assert.Equal(2, check.ExitCode);
        Assert.Contains($"{path}(4,1) : error : The key `gateway.token` is already defined at (2,1)", check.Stderr, StringComparison.Ordinal);
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
