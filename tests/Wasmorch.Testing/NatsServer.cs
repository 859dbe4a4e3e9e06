using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Wasmorch.Testing;

/// <summary>
/// A real nats-server (Debian's, installed by scripts/setup.sh) for fleet tests: loopback only, a
/// free port, JetStream on, its store in a fresh folder removed afterwards. Also a cluster of them
/// (<see cref="StartClusterAsync"/>), whose nodes can be killed and brought back.
/// </summary>
public sealed class NatsServer : IAsyncDisposable
{
    private readonly string _store;
    private readonly string[] _args;
    private readonly int? _monitorPort;
    private RunningProcess _process;

    /// <summary>nats-server with exactly these arguments (<c>-c file</c>, as docs/fleet.md runs it), listening on <paramref name="port"/>.</summary>
    private NatsServer(int port, string[] args)
    {
        Port = port;
        _store = Directory.CreateTempSubdirectory("wasmorch-nats-").FullName;
        _args = args;
        _process = Launch();
    }

    private NatsServer(int port, int? monitorPort, string[] options)
    {
        Port = port == 0 ? TcpPorts.Unused() : port;
        _monitorPort = monitorPort;
        _store = Directory.CreateTempSubdirectory("wasmorch-nats-").FullName;
        _args = ["-a", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-js", "-sd", _store, .. options];
        if (monitorPort is { } monitor)
        {
            _args = [.. _args, "-m", monitor.ToString(CultureInfo.InvariantCulture)];
        }
        _process = Launch();
    }

    public int Port { get; }

    public string Url => $"nats://127.0.0.1:{Port}";

    /// <summary>What the server logged (for a failing test's message).</summary>
    public string Output => _process.Output;

    /// <param name="port">0 for a free one.</param>
    /// <param name="options">More nats-server options (--user, --pass, ...).</param>
    public static NatsServer Start(int port = 0, params string[] options) => new(port, null, options);

    /// <summary><c>nats-server -c <paramref name="config"/></c> and nothing else; the config says <paramref name="port"/>.</summary>
    public static NatsServer StartWithConfig(string config, int port) => new(port, ["-c", config]);

    /// <summary>
    /// A JetStream cluster of <paramref name="size"/> nodes on loopback (node-0 …), each with its own
    /// store and routes to the others, returned once every node says JetStream is ready.
    /// </summary>
    public static async Task<NatsServer[]> StartClusterAsync(int size)
    {
        var clusterPorts = Enumerable.Range(0, size).Select(_ => TcpPorts.Unused()).ToArray();
        var nodes = new NatsServer[size];
        for (var i = 0; i < size; i++)
        {
            var routes = string.Join(',', clusterPorts.Where((_, j) => j != i).Select(p => $"nats://127.0.0.1:{p}"));
            nodes[i] = new NatsServer(0, TcpPorts.Unused(), ["-n", $"node-{i}", "--cluster_name", "wasmorch-test", "--cluster", $"nats://127.0.0.1:{clusterPorts[i]}", "--routes", routes]);
        }
        foreach (var node in nodes)
        {
            await node.WaitHealthyAsync(TimeSpan.FromSeconds(30));
        }
        return nodes;
    }

    /// <summary>SIGKILL: the node gets no chance to hand anything over.</summary>
    public Task KillAsync() => _process.KillAsync();

    /// <summary>The same node again (same ports, same store), after <see cref="KillAsync"/>.</summary>
    public async Task RestartAsync()
    {
        await _process.DisposeAsync();
        _process = Launch();
    }

    /// <summary>
    /// Waits until the node's /healthz answers 200: JetStream on it is current (in a cluster: a
    /// meta leader, and its streams led and caught up, which after a node is lost or back takes
    /// RAFT elections of several seconds).
    /// </summary>
    public async Task WaitHealthyAsync(TimeSpan within)
    {
        var monitor = _monitorPort ?? throw new InvalidOperationException("this node was started without a monitor port");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var until = DateTime.UtcNow + within;
        while (true)
        {
            try
            {
                using var health = await http.GetAsync(new Uri($"http://127.0.0.1:{monitor}/healthz"));
                if (health.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or busy.
            }
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"NATS node on port {Port}: JetStream not healthy within {within.TotalSeconds:0} s\n{Output}");
            }
            await Task.Delay(200);
        }
    }

    private RunningProcess Launch()
    {
        var process = RunningProcess.Start("nats-server", _args);
        // It logs to stderr; ready is when it takes connections.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, Port);
                return process;
            }
            catch (SocketException) when (attempt < 100 && !process.HasExited)
            {
                Thread.Sleep(100);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        Directory.Delete(_store, recursive: true);
    }
}
