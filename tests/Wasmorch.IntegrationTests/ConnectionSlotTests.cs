using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>Finding 5 of issue 14: connection slots that could be held forever, over the real gateway process.</summary>
public sealed class ConnectionSlotTests : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wasmorch-slots-").FullName;
    private readonly List<TcpClient> _clients = [];

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }
        Directory.Delete(_dir, true);
        await Task.CompletedTask;
    }

    private async Task<SystemUnderTest> StartAsync(string toml, params string[] extraArgs)
    {
        var config = Path.Combine(_dir, "gw.toml");
        await File.WriteAllTextAsync(config, toml);
        var system = new SystemUnderTest();
        system.StartBoard("nucleo", 0);
        system.GatewayArgs.AddRange(["--config", config, .. extraArgs]);
        system.StartGateway();
        return system;
    }

    private async Task<TcpClient> ConnectAsync(SystemUnderTest system)
    {
        var client = new TcpClient();
        _clients.Add(client);
        await client.ConnectAsync("127.0.0.1", system.GatewayPort);
        return client;
    }

    /// <summary>True when the gateway closed the connection within <paramref name="within"/>.</summary>
    private static async Task<bool> ClosedAsync(Stream stream, TimeSpan within)
    {
        using var cts = new CancellationTokenSource(within);
        var buffer = new byte[4096];
        try
        {
            while (await stream.ReadAsync(buffer, cts.Token) > 0)
            {
            }
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    [Fact]
    public async Task Idle_connections_at_the_cap_make_room_for_a_new_client()
    {
        await using var system = await StartAsync("[gateway]\nmax_connections = 8\n");
        var idle = new List<TcpClient>();
        for (var i = 0; i < 8; i++)
        {
            idle.Add(await ConnectAsync(system));
        }
        await Task.Delay(300);
        var status = await system.CliAsync("--device", "nucleo", "status");
        CliAssert.Exit(0, status);
        Assert.True(await ClosedAsync(idle[0].GetStream(), TimeSpan.FromSeconds(5)), "the longest-idle connection should have been closed to make room");
    }

    [Fact]
    public async Task A_request_trickled_a_byte_at_a_time_is_cut_at_the_whole_request_deadline()
    {
        await using var system = await StartAsync("[gateway]\npartial_request_timeout_ms = 1500\n");
        var slow = (await ConnectAsync(system)).GetStream();
        var request = "{\"id\":1,\"op\":\"status\",\"device\":\"nucleo\"}"u8.ToArray();
        var cut = false;
        // 20 bytes at 400 ms: 8 s of trickling, each byte well inside the deadline, the whole far past it.
        for (var i = 0; i < 20 && !cut; i++)
        {
            try
            {
                await slow.WriteAsync(request.AsMemory(i, 1));
            }
            catch (IOException)
            {
                cut = true;
                break;
            }
            cut = await ClosedAsync(slow, TimeSpan.FromMilliseconds(400));
        }
        Assert.True(cut, "a request line still unfinished 1.5 s after its first byte must cost the client its connection");
    }

    [Fact]
    public async Task A_connection_that_fails_the_token_is_answered_and_closed()
    {
        await using var system = await StartAsync("[gateway]\ntoken = \"0123456789abcdef-slots\"\n");
        var intruder = (await ConnectAsync(system)).GetStream();
        await intruder.WriteAsync("{\"id\":7,\"op\":\"status\",\"device\":\"nucleo\"}\n"u8.ToArray());
        using var reader = new StreamReader(intruder, Encoding.UTF8, leaveOpen: true);
        var line = await reader.ReadLineAsync();
        Assert.Contains("UNAUTHORIZED", line, StringComparison.Ordinal);
        Assert.True(await ClosedAsync(intruder, TimeSpan.FromSeconds(5)), "an unauthorized connection must not keep its slot");
    }

    [Fact]
    public async Task At_the_cap_with_every_connection_busy_a_tls_client_is_told_so_over_tls()
    {
        var cert = Path.Combine(_dir, "gateway.pem");
        var key = Path.Combine(_dir, "gateway.key");
        TlsTests.WriteSelfSigned(cert, key, "127.0.0.1");
        await using var system = await StartAsync("[gateway]\nmax_connections = 1\n", "--tls-cert", cert, "--tls-key", key);
        // The one slot is busy: its request line is half-sent.
        using var pinned = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(cert));
        var busy = await TlsAsync(await ConnectAsync(system), pinned);
        await busy.WriteAsync("{\"id\":1,"u8.ToArray());
        await busy.FlushAsync();
        await Task.Delay(300);
        var refused = await TlsAsync(await ConnectAsync(system), pinned);
        using var reader = new StreamReader(refused, Encoding.UTF8);
        var line = await reader.ReadLineAsync();
        Assert.Contains("TOO_MANY_CONNECTIONS", line, StringComparison.Ordinal);
    }

    /// <summary>TLS to the gateway, trusting exactly its test certificate.</summary>
    private static async Task<SslStream> TlsAsync(TcpClient client, System.Security.Cryptography.X509Certificates.X509Certificate2 pinned)
    {
        var tls = new SslStream(client.GetStream(), false, (_, certificate, _, _) => certificate?.GetCertHashString() == pinned.GetCertHashString());
        await tls.AuthenticateAsClientAsync("127.0.0.1");
        return tls;
    }

    [Fact]
    public async Task Running_out_of_file_descriptors_slows_accepting_but_never_stops_it()
    {
        // The gateway gets 64 descriptors; 150 connections take them all, so accept() fails with
        // EMFILE until they are given back (issue 30, item 4: the accept loop used to end for good).
        var info = new System.Diagnostics.ProcessStartInfo("prlimit");
        foreach (var arg in (string[])["--nofile=64:64", "--", RepoPaths.Cli.FileName, .. RepoPaths.Cli.LeadingArgs, "gateway", "--port", "0", "--state", "off", "--link-key", "off"])
        {
            info.ArgumentList.Add(arg);
        }
        await using var gateway = RunningProcess.Start(info);
        var address = gateway.WaitForLine(@"gateway listening on (127\.0\.0\.1:\d+)").Groups[1].Value;
        var port = int.Parse(address.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
        var flood = new List<TcpClient>();
        for (var i = 0; i < 150; i++)
        {
            var client = new TcpClient();
            flood.Add(client);
            await client.ConnectAsync("127.0.0.1", port);
        }
        await LinkFaultTests.EventuallyAsync(() => Task.FromResult(gateway.Errors.Contains("Host API: accept failed", StringComparison.Ordinal)), TimeSpan.FromSeconds(20));
        flood.ForEach(c => c.Dispose());
        // Given back: a command is answered again (the CLI's own connect and request, unchanged).
        var devices = await CliRunner.RunAsync(address, "devices", "--json");
        CliAssert.Exit(0, devices);
        Assert.False(gateway.HasExited);
    }
}
