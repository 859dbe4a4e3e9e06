using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Wasmorch.Http;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Bench;

/// <summary>
/// Issue 18's costs: the STATUS round trip with the gateway's metrics exported (the HTTP API's
/// OpenTelemetry Prometheus exporter listening to the meter, scraped) against the same with none
/// listening; and STATUS over the HTTP API against the TCP host API. Measured in alternating
/// rounds on one gateway and one emulated board, so both sides see the same machine.
/// </summary>
public static class HttpBench
{
    private const int Rounds = 10;
    private const int PerRound = 200;

    public static async Task<IReadOnlyList<BenchResult>> RunAsync(string cacheDir)
    {
        await using var harness = await Harness.StartAsync(1, cacheDir);
        await using var client = await HostClient.ConnectAsync(harness.Gateway);
        var status = new HostRequest { Op = HostOps.Status, Device = "b0" };
        Task<(HostResponse, TimeSpan)> Tcp() => client.SendAsync(new HostRequest { Op = status.Op, Device = status.Device });
        var off = new List<double>();
        var on = new List<double>();
        var traced = new List<double>();
        var http = new List<double>();
        using var collector = new HttpListener();
        var collectorUrl = $"http://127.0.0.1:{FreePort()}";
        collector.Prefixes.Add(collectorUrl + "/");
        collector.Start();
        var collecting = CollectAsync(collector);
        for (var round = 0; round < Rounds; round++)
        {
            off.AddRange(await LatencyBench.MeasureAsync(Tcp, PerRound, round == 0 ? 200 : 20));
            using (TraceExport.Start(new Uri(collectorUrl), "bench"))
            {
                traced.AddRange(await LatencyBench.MeasureAsync(Tcp, PerRound, 20));
            }
            await using var api = new HttpApiServer(new HttpApiOptions(new IPEndPoint(IPAddress.Loopback, 0)), harness.Host.Dispatcher, harness.Host.Events, NullLoggerFactory.Instance);
            await api.StartAsync(CancellationToken.None);
            using var web = new HttpClient { BaseAddress = new Uri($"http://{api.LocalEndpoint}/") };
            // Scraped once, so the exporter has its collection going as Prometheus would.
            (await web.GetAsync(new Uri("metrics", UriKind.Relative))).EnsureSuccessStatusCode();
            on.AddRange(await LatencyBench.MeasureAsync(Tcp, PerRound, 20));
            http.AddRange(await LatencyBench.MeasureAsync(async () =>
            {
                var clock = Stopwatch.StartNew();
                using var response = await web.GetAsync(new Uri("api/status?device=b0", UriKind.Relative));
                response.EnsureSuccessStatusCode();
                await response.Content.ReadAsByteArrayAsync();
                return (new HostResponse { Ok = true }, clock.Elapsed);
            }, PerRound, 20));
        }
        collector.Stop();
        await collecting;
        return
        [
            new("STATUS round trip p50, metrics exported", Stats.Percentile(on, 50), "ms", "no metrics listener p50", Stats.Percentile(off, 50), 1.05, false,
                "OpenTelemetry Prometheus exporter on the gateway's meter, scraped"),
            new("STATUS round trip p50, traced", Stats.Percentile(traced, 50), "ms", "no collector configured p50", Stats.Percentile(off, 50), 1.05, false,
                "a span per request, exported over OTLP/HTTP to a local listener"),
            new("HTTP API STATUS p50", Stats.Percentile(http, 50), "ms", "TCP host API STATUS p50", Stats.Percentile(on, 50), 1000, false,
                "HttpClient keep-alive GET /api/status; no target set"),
        ];
    }

    private static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Takes what the exporter sends (OTLP/HTTP) and answers 200, as a collector does.</summary>
    private static async Task CollectAsync(HttpListener listener)
    {
        while (listener.IsListening)
        {
            try
            {
                var context = await listener.GetContextAsync();
                await context.Request.InputStream.CopyToAsync(Stream.Null);
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
        }
    }
}
