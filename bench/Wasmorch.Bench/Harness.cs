using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Wasmorch.Emulator;
using Wasmorch.Emulator.Link;
using Wasmorch.Gateway;
using Wasmorch.Gateway.Config;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Bench;

/// <summary>A gateway and emulated boards in this process, and a host API client over real loopback TCP.</summary>
public sealed class Harness : IAsyncDisposable
{
    private readonly EmulatorHost _emulator = new(NullLoggerFactory.Instance);
    private GatewayHost? _gateway;

    /// <summary>The gateway keeps its state file as in production; a fresh one per harness.</summary>
    private readonly string _statePath = Path.Combine(Path.GetTempPath(), $"wasmorch-bench-{Guid.NewGuid():n}.db");

    public List<string> Boards { get; } = [];

    public IPEndPoint Gateway => _gateway!.LocalEndpoint;

    /// <summary>The gateway itself (to put another front door on it: the HTTP API).</summary>
    public GatewayHost Host => _gateway!;

    /// <summary>Resolves once the gateway has committed everything it recorded so far.</summary>
    public Task SettledAsync() => _gateway!.FlushStateAsync();

    private readonly Dictionary<string, BoardServer> _servers = new(StringComparer.Ordinal);

    /// <summary>
    /// The board loses power and comes back empty on the same port: its server is stopped and a
    /// fresh board put in its place.
    /// </summary>
    public async Task PowerCycleAsync(string board)
    {
        var port = _servers[board].LocalEndpoint.Port;
        await _emulator.RemoveBoardAsync(_servers[board]);
        _servers[board] = _emulator.AddBoard(new BoardOptions { Name = board, Port = port });
    }

    /// <param name="labelled">Every board gets the label bench=yes (for selectors).</param>
    public static async Task<Harness> StartAsync(int boards, string cacheDir, bool labelled = false)
    {
        var harness = new Harness();
        var config = new GatewayConfig { Port = 0, CacheDirectory = cacheDir, StatePath = harness._statePath };
        for (var i = 0; i < boards; i++)
        {
            var name = $"b{i}";
            var server = harness._emulator.AddBoard(new BoardOptions { Name = name, Port = 0 });
            harness._servers[name] = server;
            config.AddDevice(name, $"tcp://127.0.0.1:{server.LocalEndpoint.Port}", "bench");
            if (labelled)
            {
                config.Labels[name] = new Dictionary<string, string>(StringComparer.Ordinal) { ["bench"] = "yes" };
            }
            harness.Boards.Add(name);
        }
        harness._gateway = new GatewayHost(config, NullLoggerFactory.Instance);
        harness._gateway.Start();
        // A fleet is measured from a settled gateway, not while it still records its device map.
        await harness._gateway.FlushStateAsync();
        return harness;
    }

    /// <summary>The tty pair of a board behind a tty (<see cref="StartSerialAsync"/>).</summary>
    private Testing.PtyPair? _pty;

    /// <summary>
    /// One emulated board, b0, behind a tty at <paramref name="baud"/> (a pty pair; the emulator
    /// paces its side at the baud rate, 8N1), mapped in the gateway as a serial:// device.
    /// </summary>
    public static async Task<Harness> StartSerialAsync(string cacheDir, int baud)
    {
        var harness = new Harness();
        var pty = harness._pty = await Testing.PtyPair.CreateAsync(Testing.PtyPair.NewDirectory());
        harness._emulator.AddSerialBoard(new BoardOptions { Name = "b0" }, pty.BoardSide, baud);
        var config = new GatewayConfig { Port = 0, CacheDirectory = cacheDir, StatePath = harness._statePath };
        config.AddDevice("b0", $"serial://{pty.GatewaySide}?baud={baud}", "bench");
        harness.Boards.Add("b0");
        harness._gateway = new GatewayHost(config, NullLoggerFactory.Instance);
        harness._gateway.Start();
        await harness._gateway.FlushStateAsync();
        return harness;
    }

    public async ValueTask DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }
        await _emulator.DisposeAsync();
        if (_pty is not null)
        {
            await _pty.DisposeAsync();
        }
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(_statePath + suffix);
        }
    }
}

/// <summary>A raw host API client: one connection, many requests in flight, matched by id.</summary>
public sealed class HostClient : IAsyncDisposable
{
    private readonly TcpClient _tcp = new() { NoDelay = true };
    private Stream _stream = null!;
    private StreamReader _reader = null!;
    private readonly Dictionary<long, TaskCompletionSource<HostResponse>> _waiting = [];
    private readonly SemaphoreSlim _write = new(1, 1);
    private long _id;
    private Task? _readLoop;

    public static async Task<HostClient> ConnectAsync(IPEndPoint endpoint)
    {
        var client = new HostClient();
        await client._tcp.ConnectAsync(endpoint);
        client._stream = client._tcp.GetStream();
        client._reader = new StreamReader(client._stream, Encoding.UTF8);
        client._readLoop = client.ReadLoopAsync();
        return client;
    }

    private async Task ReadLoopAsync()
    {
        while (await _reader.ReadLineAsync() is { } line)
        {
            if (!HostJson.TryParseResponse(Encoding.UTF8.GetBytes(line), out var response, out _) || response!.Event is not null)
            {
                continue;
            }
            TaskCompletionSource<HostResponse>? waiter;
            lock (_waiting)
            {
                _waiting.Remove(response.Id, out waiter);
            }
            waiter?.TrySetResult(response);
        }
    }

    public async Task<(HostResponse Response, TimeSpan Latency)> SendAsync(HostRequest request)
    {
        var waiter = new TaskCompletionSource<HostResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        request.Id = Interlocked.Increment(ref _id);
        lock (_waiting)
        {
            _waiting[request.Id] = waiter;
        }
        byte[] bytes = [.. HostJson.Serialize(request), (byte)'\n'];
        var clock = Stopwatch.StartNew();
        await _write.WaitAsync();
        try
        {
            await _stream.WriteAsync(bytes);
        }
        finally
        {
            _write.Release();
        }
        var response = await waiter.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return (response, clock.Elapsed);
    }

    public async ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        if (_readLoop is not null)
        {
            try
            {
                await _readLoop;
            }
            catch (IOException)
            {
                // Closed by us.
            }
        }
        _write.Dispose();
    }
}

public static class Stats
{
    public static double Percentile(List<double> values, double p)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
