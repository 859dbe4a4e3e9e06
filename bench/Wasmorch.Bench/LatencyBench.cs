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
        await using var echo = await RelayedEcho.StartAsync();
        await using var harness = await Harness.StartAsync(1, cacheDir);
        await using var client = await HostClient.ConnectAsync(harness.Gateway);
        var deploy = await client.SendAsync(new HostRequest { Op = HostOps.Deploy, Device = "b0", ModuleId = "m", Module = Convert.ToBase64String(Modules.Add) });
        if (!deploy.Response.Ok)
        {
            throw new InvalidOperationException(deploy.Response.Error?.Message);
        }
        // Figure and baseline are sampled in alternating batches, so both see the same machine
        // (on these shared machines the echo alone moves by 3x from one minute to the next).
        var echoSamples = new List<double>();
        var status = new List<double>();
        var start = new List<double>();
        for (var round = 0; round < 20; round++)
        {
            echoSamples.AddRange(await echo.MeasureAsync(Samples / 20, warmup: round == 0 ? Warmup : 0));
            status.AddRange(await MeasureAsync(() => client.SendAsync(new HostRequest { Op = HostOps.Status, Device = "b0" }), Samples / 20, round == 0 ? Warmup : 0));
            start.AddRange(await MeasureAsync(() => client.SendAsync(new HostRequest { Op = HostOps.Start, Device = "b0", ModuleId = "m", Func = "add", Args = "a=10,b=15", WaitResult = true }), Samples / 20, round == 0 ? Warmup : 0));
        }
        return
        [
            new("STATUS round trip p50", Stats.Percentile(status, 50), "ms", "TCP echo via relay p50", Stats.Percentile(echoSamples, 50), 1.5, false),
            new("STATUS round trip p99", Stats.Percentile(status, 99), "ms", "TCP echo via relay p99", Stats.Percentile(echoSamples, 99), 3, false, "target for p99 is ours (issue sets p50)"),
            new("START add --wait-result p50", Stats.Percentile(start, 50), "ms", "TCP echo via relay p50", Stats.Percentile(echoSamples, 50), 1.5, false, "two device round trips: START_OK, then RESULT"),
            new("START add --wait-result p99", Stats.Percentile(start, 99), "ms", "TCP echo via relay p99", Stats.Percentile(echoSamples, 99), 3, false),
        ];
    }

    /// <summary>The latencies of <paramref name="samples"/> calls after <paramref name="warmup"/> unmeasured ones; a failed call stops the benchmark.</summary>
    internal static async Task<List<double>> MeasureAsync(Func<Task<(HostResponse Response, TimeSpan Latency)>> call, int samples, int warmup)
    {
        var result = new List<double>(samples);
        for (var i = 0; i < warmup + samples; i++)
        {
            var (response, latency) = await call();
            if (!response.Ok)
            {
                throw new InvalidOperationException(response.Error?.Message);
            }
            if (i >= warmup)
            {
                result.Add(latency.TotalMilliseconds);
            }
        }
        return result;
    }
}

/// <summary>Client → relay → echo server and back, written with plain sockets: two hops, as host → gateway → device.</summary>
public sealed class RelayedEcho : IAsyncDisposable
{
    private static readonly byte[] Request = Encoding.ASCII.GetBytes("{\"id\":1,\"op\":\"status\",\"device\":\"b0\"}\n");
    private readonly TcpListener _echoListener = new(IPAddress.Loopback, 0);
    private readonly TcpListener _relayListener = new(IPAddress.Loopback, 0);
    private readonly TcpClient _client = new() { NoDelay = true };
    private readonly byte[] _reply = new byte[Request.Length];
    private Task _servers = Task.CompletedTask;

    public static async Task<RelayedEcho> StartAsync()
    {
        var echo = new RelayedEcho();
        echo._echoListener.Start();
        echo._relayListener.Start();
        var echoTask = Task.Run(async () =>
        {
            using var socket = await echo._echoListener.AcceptTcpClientAsync();
            socket.NoDelay = true;
            var stream = socket.GetStream();
            var buffer = new byte[4096];
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, n));
            }
        });
        var relayTask = Task.Run(async () =>
        {
            using var inbound = await echo._relayListener.AcceptTcpClientAsync();
            using var outbound = new TcpClient { NoDelay = true };
            inbound.NoDelay = true;
            await outbound.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)echo._echoListener.LocalEndpoint).Port);
            var a = inbound.GetStream().CopyToAsync(outbound.GetStream());
            var b = outbound.GetStream().CopyToAsync(inbound.GetStream());
            await Task.WhenAny(a, b);
        });
        echo._servers = Task.WhenAll(echoTask, relayTask);
        await echo._client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)echo._relayListener.LocalEndpoint).Port);
        return echo;
    }

    public async Task<List<double>> MeasureAsync(int samples, int warmup)
    {
        var stream = _client.GetStream();
        var result = new List<double>(samples);
        for (var i = 0; i < warmup + samples; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await stream.WriteAsync(Request);
            await stream.ReadExactlyAsync(_reply);
            if (i >= warmup)
            {
                result.Add(clock.Elapsed.TotalMilliseconds);
            }
        }
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await _servers.WaitAsync(TimeSpan.FromSeconds(5));
        _echoListener.Stop();
        _relayListener.Stop();
    }
}
