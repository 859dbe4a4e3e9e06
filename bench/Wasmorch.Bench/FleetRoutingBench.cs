using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Wasmorch.Emulator;
using Wasmorch.Fleet;
using Wasmorch.Gateway;
using Wasmorch.Gateway.Config;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Bench;

/// <summary>
/// docs/fleet.md: what a request pays to travel through another gateway of the fleet. Two
/// gateways joined over a local nats-server, one board on the second; STATUS of that board asked
/// of the second gateway (local) and of the first (routed over NATS), in alternating batches.
/// </summary>
public static class FleetRoutingBench
{
    private const int Samples = 2000;

    public static async Task<IReadOnlyList<BenchResult>> RunAsync(string cacheDir)
    {
        var (nats, url, store) = StartNats();
        using var _ = nats;
        try
        {
            await using var emulator = new EmulatorHost(NullLoggerFactory.Instance);
            var board = emulator.AddBoard(new BoardOptions { Name = "b0", Port = 0 });
            await using var local = await JoinAsync(url, "gw-b", cacheDir, ("b0", board.LocalEndpoint.Port));
            await using var entry = await JoinAsync(url, "gw-a", cacheDir);
            await using var toLocal = await HostClient.ConnectAsync(local.LocalEndpoint);
            await using var toEntry = await HostClient.ConnectAsync(entry.LocalEndpoint);
            var routed = new List<double>();
            var direct = new List<double>();
            for (var round = 0; round < 20; round++)
            {
                direct.AddRange(await MeasureAsync(toLocal, Samples / 20, round == 0 ? 200 : 0));
                routed.AddRange(await MeasureAsync(toEntry, Samples / 20, round == 0 ? 200 : 0));
            }
            return
            [
                new("fleet: STATUS routed through another gateway p50", Stats.Percentile(routed, 50), "ms", "same request to the owning gateway p50", Stats.Percentile(direct, 50), 1.5, false, "host -> gw-a -> NATS -> gw-b -> board, vs host -> gw-b -> board"),
                new("fleet: STATUS routed through another gateway p99", Stats.Percentile(routed, 99), "ms", "same request to the owning gateway p99", Stats.Percentile(direct, 99), 3, false),
            ];
        }
        finally
        {
            nats.Kill();
            Directory.Delete(store, recursive: true);
        }
    }

    private static async Task<GatewayHost> JoinAsync(string url, string name, string cacheDir, params (string Name, int Port)[] boards)
    {
        var config = new GatewayConfig { Port = 0, CacheDirectory = cacheDir, StatePath = "off", LinkKeyPath = "off" };
        foreach (var (board, port) in boards)
        {
            config.AddDevice(board, $"tcp://127.0.0.1:{port}", "bench");
        }
        var gateway = new GatewayHost(config, NullLoggerFactory.Instance, new NatsFleet(url, name, "bench", NullLogger.Instance, new FleetSecurity(InsecureDev: true)));
        gateway.Start();
        await gateway.JoinFleetAsync(CancellationToken.None);
        return gateway;
    }

    private static async Task<List<double>> MeasureAsync(HostClient client, int samples, int warmup)
    {
        var result = new List<double>(samples);
        for (var i = 0; i < warmup + samples; i++)
        {
            var (response, latency) = await client.SendAsync(new HostRequest { Op = HostOps.Status, Device = "b0" });
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

    /// <summary>A local nats-server with JetStream in a fresh store (the caller kills it and deletes the store).</summary>
    internal static (Process Nats, string Url, string Store) StartNats()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        var store = Directory.CreateTempSubdirectory("wasmorch-bench-nats-").FullName;
        var url = $"nats://127.0.0.1:{port}";
        var process = Process.Start(new ProcessStartInfo("nats-server", ["-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-js", "-sd", store])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        }) ?? throw new InvalidOperationException("nats-server did not start (scripts/setup.sh installs it)");
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, port);
                return (process, url, store);
            }
            catch (SocketException) when (attempt < 100)
            {
                Thread.Sleep(100);
            }
        }
    }
}
