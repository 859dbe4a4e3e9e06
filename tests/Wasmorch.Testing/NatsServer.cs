using System.Net;
using System.Net.Sockets;

namespace Wasmorch.Testing;

/// <summary>
/// A real nats-server (Debian's, installed by scripts/setup.sh) for fleet tests: loopback only, a
/// free port, JetStream on, its store in a fresh folder removed afterwards.
/// </summary>
public sealed class NatsServer : IAsyncDisposable
{
    private readonly RunningProcess _process;
    private readonly string _store;

    private NatsServer(RunningProcess process, string store, int port)
    {
        _process = process;
        _store = store;
        Port = port;
    }

    public int Port { get; }

    public string Url => $"nats://127.0.0.1:{Port}";

    /// <param name="port">0 for a free one.</param>
    /// <param name="options">More nats-server options (--user, --pass, ...).</param>
    public static NatsServer Start(int port = 0, params string[] options)
    {
        var store = Directory.CreateTempSubdirectory("wasmorch-nats-").FullName;
        port = port == 0 ? TcpPorts.Unused() : port;
        var process = RunningProcess.Start("nats-server", ["-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-js", "-sd", store, .. options]);
        // It logs to stderr; ready is when it takes connections.
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, port);
                return new NatsServer(process, store, port);
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
