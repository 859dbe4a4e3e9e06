using System.Net;
using System.Net.Sockets;
using System.Text;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Bench;

/// <summary>
/// Host → gateway → emulated board round trips (STATUS, START add --wait-result), against the
/// floor of any such design: a line echoed through a plain-socket relay (client → relay → echo).
/// </summary>
public static class LatencyBench
{
    private const int Warmup = 200;
    private const int Samples = 2000;

    public static async Task<IReadOnlyList<BenchResult>> RunAsync(string cacheDir)
    {
        var echo = await EchoThroughRelayAsync();
        await using var harness = await Harness.StartAsync(1, cacheDir);
        await using var client = await HostClient.ConnectAsync(harness.Gateway);
        var deploy = await client.SendAsync(new HostRequest { Op = HostOps.Deploy, Device = "b0", ModuleId = "m", Module = Convert.ToBase64String(Modules.Add) });
        if (!deploy.Response.Ok)
        {
            throw new InvalidOperationException(deploy.Response.Error?.Message);
        }
        var status = await MeasureAsync(() => client.SendAsync(new HostRequest { Op = HostOps.Status, Device = "b0" }));
        var start = await MeasureAsync(() => client.SendAsync(new HostRequest { Op = HostOps.Start, Device = "b0", ModuleId = "m", Func = "add", Args = "a=10,b=15", WaitResult = true }));
        return
        [
            new("STATUS round trip p50", Stats.Percentile(status, 50), "ms", "TCP echo via relay p50", Stats.Percentile(echo, 50), 1.5, false),
            new("STATUS round trip p99", Stats.Percentile(status, 99), "ms", "TCP echo via relay p99", Stats.Percentile(echo, 99), 3, false, "target for p99 is ours (issue sets p50)"),
            new("START add --wait-result p50", Stats.Percentile(start, 50), "ms", "TCP echo via relay p50", Stats.Percentile(echo, 50), 1.5, false, "two device round trips: START_OK, then RESULT"),
            new("START add --wait-result p99", Stats.Percentile(start, 99), "ms", "TCP echo via relay p99", Stats.Percentile(echo, 99), 3, false),
        ];
    }

    private static async Task<List<double>> MeasureAsync(Func<Task<(HostResponse Response, TimeSpan Latency)>> call)
    {
        var samples = new List<double>(Samples);
        for (var i = 0; i < Warmup + Samples; i++)
        {
            var (response, latency) = await call();
            if (!response.Ok)
            {
                throw new InvalidOperationException(response.Error?.Message);
            }
            if (i >= Warmup)
            {
                samples.Add(latency.TotalMilliseconds);
            }
        }
        return samples;
    }

    /// <summary>Client → relay → echo server and back, written with plain sockets: two hops, as host → gateway → device.</summary>
    private static async Task<List<double>> EchoThroughRelayAsync()
    {
        using var echoListener = new TcpListener(IPAddress.Loopback, 0);
        echoListener.Start();
        using var relayListener = new TcpListener(IPAddress.Loopback, 0);
        relayListener.Start();
        var echo = Task.Run(async () =>
        {
            using var socket = await echoListener.AcceptTcpClientAsync();
            socket.NoDelay = true;
            var stream = socket.GetStream();
            var buffer = new byte[4096];
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, n));
            }
        });
        var relay = Task.Run(async () =>
        {
            using var inbound = await relayListener.AcceptTcpClientAsync();
            using var outbound = new TcpClient { NoDelay = true };
            inbound.NoDelay = true;
            await outbound.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)echoListener.LocalEndpoint).Port);
            var a = inbound.GetStream().CopyToAsync(outbound.GetStream());
            var b = outbound.GetStream().CopyToAsync(inbound.GetStream());
            await Task.WhenAny(a, b);
        });
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)relayListener.LocalEndpoint).Port);
        var stream = client.GetStream();
        var request = Encoding.ASCII.GetBytes("{\"id\":1,\"op\":\"status\",\"device\":\"b0\"}\n");
        var reply = new byte[request.Length];
        var samples = new List<double>(Samples);
        for (var i = 0; i < Warmup + Samples; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await stream.WriteAsync(request);
            await stream.ReadExactlyAsync(reply);
            if (i >= Warmup)
            {
                samples.Add(clock.Elapsed.TotalMilliseconds);
            }
        }
        client.Close();
        await Task.WhenAll(echo, relay).WaitAsync(TimeSpan.FromSeconds(5));
        return samples;
    }
}
