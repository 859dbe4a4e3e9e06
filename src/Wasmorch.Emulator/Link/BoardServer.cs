using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Wasmorch.Emulator.Agent;
using Wasmorch.Transport;

namespace Wasmorch.Emulator.Link;

/// <summary>
/// Serves one board on a TCP port, like Renode's UART bridge: one peer holds the link at a time,
/// and a new peer takes it over (a restarted gateway reconnects without waiting for the old socket
/// to die). On a board with a link key a new peer takes over only once it has passed AUTH
/// (docs/protocol.md §6a): until then it is <em>pending</em>, hears nothing the board sends on the
/// link (LOG, RESULT, EVENT), and the authenticated peer keeps the link and its job.
/// </summary>
public sealed partial class BoardServer : IAsyncDisposable
{
    /// <summary>Unauthenticated peers at once; a newer one closes the oldest, so pending peers cannot pile up.</summary>
    private const int MaxPending = 8;

    private readonly Board _board;
    private readonly ILogger _logger;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _gate = new();
    private readonly List<Peer> _pending = [];
    private readonly List<Task> _runs = [];
    private Task? _acceptLoop;
    private Peer? _active;

    /// <summary>One peer's connection: cancelled when another takes the link over or the server stops.</summary>
    private sealed class Peer(CancellationToken stopping)
    {
        public CancellationTokenSource Cts { get; } = CancellationTokenSource.CreateLinkedTokenSource(stopping);

        public Task Run { get; set; } = Task.CompletedTask;

        public bool Ended { get; set; }
    }

    public BoardServer(Board board, ILogger logger)
    {
        _board = board;
        _logger = logger;
        _listener = new TcpListener(IPAddress.Parse(board.Options.BindAddress), board.Options.Port);
    }

    public Board Board => _board;

    public IPEndPoint LocalEndpoint => (IPEndPoint)_listener.LocalEndpoint;

    private bool Secured => _board.Options.LinkKey is not null && !_board.Options.Baseline;

    public void Start()
    {
        _listener.Start();
        _acceptLoop = AcceptLoopAsync(_stopping.Token);
    }

    private Task AcceptLoopAsync(CancellationToken ct) => TcpAcceptLoop.RunAsync(_listener, async socket =>
    {
        var peer = new Peer(ct);
        if (Secured)
        {
            lock (_gate)
            {
                _pending.Add(peer);
                if (_pending.Count > MaxPending)
                {
                    Cancel(_pending[0]);
                    _pending.RemoveAt(0);
                }
            }
            peer.Run = ServeAsync(socket, peer, _ => TakeOverAsync(peer, socket.RemoteEndPoint));
        }
        else
        {
            await TakeOverAsync(peer, socket.RemoteEndPoint);
            peer.Run = ServeAsync(socket, peer, onAuthenticated: null);
        }
        lock (_gate)
        {
            _runs.RemoveAll(t => t.IsCompleted);
            _runs.Add(peer.Run);
        }
    }, ex => LogAcceptFailed(_logger, _board.Name, ex.Message), ct);

    /// <summary><paramref name="peer"/> holds the link from now on; the peer that held it is closed first.</summary>
    private async Task TakeOverAsync(Peer peer, EndPoint? endpoint)
    {
        Peer? previous;
        lock (_gate)
        {
            _pending.Remove(peer);
            previous = _active;
            _active = peer;
            if (previous is not null)
            {
                Cancel(previous);
            }
        }
        if (previous is not null)
        {
            LogTakeover(_logger, _board.Name, endpoint);
            await previous.Run;
        }
    }

    /// <summary>Under <see cref="_gate"/>: a peer whose connection has ended has disposed its token source.</summary>
    private static void Cancel(Peer peer)
    {
        if (!peer.Ended)
        {
            peer.Cts.Cancel();
        }
    }

    private async Task ServeAsync(Socket socket, Peer peer, Func<CancellationToken, Task>? onAuthenticated)
    {
        LogConnected(_logger, _board.Name, socket.RemoteEndPoint);
        try
        {
            await using var stream = new NetworkStream(socket, ownsSocket: true);
            using var connection = new AgentConnection(_board, _logger, onAuthenticated);
            await connection.RunAsync(stream, peer.Cts.Token);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            LogConnectionEnded(_logger, _board.Name, ex.Message);
        }
        finally
        {
            lock (_gate)
            {
                _pending.Remove(peer);
                if (_active == peer)
                {
                    _active = null;
                }
                peer.Ended = true;
                peer.Cts.Dispose();
            }
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
        Task[] runs;
        lock (_gate)
        {
            runs = [.. _runs];
        }
        await Task.WhenAll(runs);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Board {Board}: accept failed ({Reason}); trying again shortly")]
    private static partial void LogAcceptFailed(ILogger logger, string board, string reason);
}
