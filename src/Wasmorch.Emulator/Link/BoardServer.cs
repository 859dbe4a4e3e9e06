using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Wasmorch.Emulator.Agent;
using Wasmorch.Transport;

namespace Wasmorch.Emulator.Link;

/// <summary>
/// Serves one board on a TCP port, like Renode's UART bridge: one peer at a time; a new peer
/// takes the link over (a restarted gateway reconnects without waiting for the old socket to die).
/// </summary>
public sealed partial class BoardServer : IAsyncDisposable
{
    private readonly Board _board;
    private readonly ILogger _logger;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _acceptLoop;
    private (CancellationTokenSource Cts, Task Run)? _active;

    public BoardServer(Board board, ILogger logger)
    {
        _board = board;
        _logger = logger;
        _listener = new TcpListener(IPAddress.Parse(board.Options.BindAddress), board.Options.Port);
    }

    public Board Board => _board;

    public IPEndPoint LocalEndpoint => (IPEndPoint)_listener.LocalEndpoint;

    public void Start()
    {
        _listener.Start();
        _acceptLoop = AcceptLoopAsync(_stopping.Token);
    }

    private Task AcceptLoopAsync(CancellationToken ct) => TcpAcceptLoop.RunAsync(_listener, async socket =>
    {
        if (_active is { } previous)
        {
            LogTakeover(_logger, _board.Name, socket.RemoteEndPoint);
            await previous.Cts.CancelAsync();
            await previous.Run;
            previous.Cts.Dispose();
        }
        var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _active = (cts, ServeAsync(socket, cts.Token));
    }, ct);

    private async Task ServeAsync(Socket socket, CancellationToken ct)
    {
        LogConnected(_logger, _board.Name, socket.RemoteEndPoint);
        try
        {
            await using var stream = new NetworkStream(socket, ownsSocket: true);
            using var connection = new AgentConnection(_board, _logger);
            await connection.RunAsync(stream, ct);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            LogConnectionEnded(_logger, _board.Name, ex.Message);
        }
        LogDisconnected(_logger, _board.Name);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        if (_acceptLoop is not null)
        {
            await _acceptLoop;
        }
        if (_active is { } active)
        {
            await active.Run;
            active.Cts.Dispose();
        }
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Board {Board}: link connected from {Peer}")]
    private static partial void LogConnected(ILogger logger, string board, EndPoint? peer);

    [LoggerMessage(Level = LogLevel.Information, Message = "Board {Board}: link disconnected")]
    private static partial void LogDisconnected(ILogger logger, string board);

    [LoggerMessage(Level = LogLevel.Information, Message = "Board {Board}: connection ended: {Reason}")]
    private static partial void LogConnectionEnded(ILogger logger, string board, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Board {Board}: new peer {Peer} takes over the link")]
    private static partial void LogTakeover(ILogger logger, string board, EndPoint? peer);
}
