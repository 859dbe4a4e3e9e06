using System.Net.Sockets;
using System.Text;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>Broken links and vanished devices, over real processes: precise errors, nothing else disturbed.</summary>
public sealed class LinkFaultTests
{
    [Theory]
    [InlineData(LinkFault.CorruptPayload, "CRC_MISMATCH", 7)]
    [InlineData(LinkFault.TruncatePayload, "TIMEOUT", 6)]
    public async Task Damaged_upload_gives_a_precise_error_and_the_retry_works(LinkFault fault, string code, int exit)
    {
        await using var system = new SystemUnderTest();
        // The baseline LOAD (no XLOAD offered): its payload has no resume, so a damaged one fails.
        system.StartBoard("nucleo", 0, "--xload-window", "0");
        system.StartBoard("disco", 0);
        await using var proxy = new FaultyLinkProxy(system.BoardPorts["nucleo"], fault);
        // The board is the gateway's only through the proxy: two names for one board would take its link from each other.
        system.BoardPorts.Remove("nucleo");
        system.AddDevice("noisy", $"tcp://127.0.0.1:{proxy.Port}");
        system.StartGateway();

        var damaged = await system.CliAsync("--device", "noisy", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c"));
        CliAssert.Exit(exit, damaged);
        Assert.Contains(code, damaged.Stderr, StringComparison.Ordinal);

        CliAssert.Exit(0, await system.CliAsync("--device", "disco", "status"));
        // The fault hit only the first upload: the same device takes the retry.
        CliAssert.Exit(0, await system.CliAsync("--device", "noisy", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c")));
        var start = await system.CliAsync("--device", "noisy", "start", "--module-id", "math_ops", "--func-name", "add", "--func-args", "a=10,b=15", "--wait-result");
        CliAssert.Exit(0, start);
        Assert.Contains("value=25", start.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_xload_cut_by_a_dropped_link_resumes_where_the_board_stopped_and_the_module_runs()
    {
        await using var system = new SystemUnderTest();
        system.StartBoard("nucleo", 0);
        await using var proxy = new FaultyLinkProxy(system.BoardPorts["nucleo"], LinkFault.DropLink);
        system.BoardPorts.Remove("nucleo");
        system.AddDevice("cut", $"tcp://127.0.0.1:{proxy.Port}");
        system.StartGateway();

        var deploy = await system.CliAsync("--device", "cut", "build-and-deploy", "--module-id", "math_ops", "--source", RepoPaths.Module("math_ops.c"));
        CliAssert.Exit(0, deploy);
        // The first XLOAD started at 0 and its link was cut after half the stream; the second one,
        // on a new link, started where the board had got to, not at 0.
        var interrupted = System.Text.RegularExpressions.Regex.Match(system.Logs, @"XLOAD math_ops interrupted at offset (\d+) of (\d+)");
        Assert.True(interrupted.Success, system.Logs);
        var tookBeforeCut = long.Parse(interrupted.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(proxy.FirstPayloadSize / 2, tookBeforeCut);
        Assert.Equal([0, tookBeforeCut], proxy.XloadOffsets);
        Assert.Contains("resuming it with XLOAD", system.Logs, StringComparison.Ordinal);
        var start = await system.CliAsync("--device", "cut", "start", "--module-id", "math_ops", "--func-name", "add", "--func-args", "a=10,b=15", "--wait-result");
        CliAssert.Exit(0, start);
        Assert.Contains("value=25", start.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Killing_the_emulator_mid_job_gives_device_unreachable_and_it_is_served_again_when_back()
    {
        await using var system = await SystemUnderTest.StartAsync("nucleo", "disco");
        var nucleoPort = system.BoardPorts["nucleo"];
        CliAssert.Exit(0, await system.CliAsync("--device", "nucleo", "build-and-deploy", "--module-id", "toggle_forever", "--source", RepoPaths.Module("toggle_forever.c")));
        await using var waiter = RunningProcess.StartCli("--gateway", system.Gateway, "--device", "nucleo", "start",
            "--module-id", "toggle_forever", "--func-name", "run", "--wait-result");
        await WaitUntilAsync(system, "nucleo", "state=RUNNING");

        await system.KillBoardAsync("nucleo");
        Assert.Equal(4, await waiter.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("DEVICE_UNREACHABLE", waiter.Output, StringComparison.Ordinal);

        var gone = await system.CliAsync("--device", "nucleo", "status");
        CliAssert.Exit(4, gone);
        Assert.Contains("DEVICE_UNREACHABLE", gone.Stderr, StringComparison.Ordinal);
        CliAssert.Exit(0, await system.CliAsync("--device", "disco", "status"));

        // The board comes back on the same port (a reboot: its modules are gone); no gateway restart.
        system.StartBoard("nucleo", nucleoPort);
        var back = await system.CliAsync("--device", "nucleo", "status");
        CliAssert.Exit(0, back);
        Assert.Contains("modules=-", back.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unreachable_gateway_and_dead_device_endpoints_have_their_own_exit_codes()
    {
        await using var system = new SystemUnderTest();
        system.StartBoard("disco", 0);
        system.AddDevice("dead", $"tcp://127.0.0.1:{TcpPorts.Unused()}");
        system.StartGateway();

        var dead = await system.CliAsync("--device", "dead", "status");
        CliAssert.Exit(4, dead);
        Assert.Contains("DEVICE_UNREACHABLE", dead.Stderr, StringComparison.Ordinal);
        CliAssert.Exit(0, await system.CliAsync("--device", "disco", "status"));

        var noGateway = await CliRunner.RunAsync($"127.0.0.1:{TcpPorts.Unused()}", "--device", "disco", "status");
        CliAssert.Exit(3, noGateway);
        Assert.Contains("cannot reach the gateway", noGateway.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_host_requests_get_errors_and_the_connection_goes_on()
    {
        await using var system = await SystemUnderTest.StartAsync("disco");
        var colon = system.Gateway.LastIndexOf(':');
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", int.Parse(system.Gateway[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
        var stream = tcp.GetStream();
        using var reader = new StreamReader(stream, Encoding.UTF8);
        async Task<string> Send(string line)
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"));
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            return await reader.ReadLineAsync(cts.Token) ?? throw new EndOfStreamException();
        }

        Assert.Contains("BAD_REQUEST", await Send("{not json"), StringComparison.Ordinal);
        Assert.Contains("unknown op", await Send("{\"id\":2,\"op\":\"launch\"}"), StringComparison.Ordinal);
        Assert.Contains("not valid base64", await Send("{\"id\":3,\"op\":\"deploy\",\"device\":\"disco\",\"module_id\":\"m\",\"module\":\"@@@\"}"), StringComparison.Ordinal);
        Assert.Contains("module_id must match", await Send("{\"id\":4,\"op\":\"stop\",\"device\":\"disco\",\"module_id\":\"../../etc\"}"), StringComparison.Ordinal);
        var status = await Send("{\"id\":5,\"op\":\"status\",\"device\":\"disco\"}");
        Assert.Contains("\"id\":5,\"ok\":true", status, StringComparison.Ordinal);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds (at most <paramref name="within"/>, 20 s by default).</summary>
    internal static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan? within = null, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(condition))] string? what = null)
    {
        var limit = within ?? TimeSpan.FromSeconds(20);
        var deadline = DateTime.UtcNow + limit;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"never became true within {limit.TotalSeconds:0} s: {what}");
            }
            await Task.Delay(100);
        }
    }

    internal static async Task WaitUntilAsync(SystemUnderTest system, string device, string expected)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var status = await system.CliAsync("--device", device, "status");
            if (status.Stdout.Contains(expected, StringComparison.Ordinal))
            {
                return;
            }
        }
        throw new Xunit.Sdk.XunitException($"{device} never showed {expected}\n{system.Logs}");
    }
}
