using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Wasmorch.Gateway.Api.Ops;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Transport;

namespace Wasmorch.Gateway.Api;

/// <summary>
/// The host API's listener: accepts TCP (or TLS) connections up to a limit and gives each to a
/// <see cref="HostConnection"/> (framing, deadlines, dispatch).
/// </summary>
public sealed partial class HostApiServer : IAsyncDisposable
{
    /// <summary>Requests of one connection that may run at once; more wait their turn (back-pressure).</summary>
    public const int MaxInFlightPerConnection = HostConnection.MaxInFlight;

    private readonly TcpListener _listener;
    private readonly RequestDispatcher _dispatcher;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _connections = [];
    private Task? _acceptLoop;

    private readonly byte[]? _token;
    private readonly int _maxConnections;
    private readonly ConnectionTable _table;

    private readonly X509Certificate2? _certificate;

    public HostApiServer(IPEndPoint endpoint, RequestDispatcher dispatcher, ILogger logger, string? token = null, int maxConnections = 256, X509Certificate2? certificate = null, int maxConnectionsPerPeer = 64)
    {
        _certificate = certificate;
        _listener = new TcpListener(endpoint);
        _dispatcher = dispatcher;
        _logger = logger;
        _token = token is null ? null : System.Text.Encoding.UTF8.GetBytes(token);
        _maxConnections = maxConnections;
        _table = new ConnectionTable(maxConnections, Math.Min(maxConnections, maxConnectionsPerPeer));
    }

    /// <summary>Constant-time comparison: a wrong token takes as long to refuse as a nearly right one.</summary>
    private bool Authorized(HostRequest request) =>
        _token is null || (request.Token is { } given && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(given), _token));

    public IPEndPoint LocalEndpoint => (IPEndPoint)_listener.LocalEndpoint;

    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(10);

    public TimeSpan PartialRequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public void Start()
    {
        _listener.Start();
        _acceptLoop = AcceptLoopAsync(_stopping.Token);
    }

    private Task AcceptLoopAsync(CancellationToken ct) => TcpAcceptLoop.RunAsync(_listener, socket =>
    {
        var slot = _table.TryAdmit((socket.RemoteEndPoint as IPEndPoint)?.Address);
        Task task;
        if (slot is null)
        {
            LogRefused(_logger, socket.RemoteEndPoint, _maxConnections);
            task = RefuseAsync(socket, ct);
        }
        else
        {
            task = ServeInSlotAsync(socket, slot, ct);
        }
        lock (_connections)
        {
            _connections.RemoveAll(t => t.IsCompleted);
            _connections.Add(task);
        }
        return Task.CompletedTask;
    }, ex => LogAcceptFailed(_logger, ex.Message), ct);

    private async Task ServeInSlotAsync(Socket socket, ConnectionTable.Slot slot, CancellationToken ct)
    {
        using var evictable = CancellationTokenSource.CreateLinkedTokenSource(ct, slot.Evicted);
        try
        {
            await ServeAsync(socket, slot, evictable.Token);
        }
        finally
        {
            _table.Release(slot);
            slot.Dispose();
        }
    }

    /// <summary>TOO_MANY_CONNECTIONS, in the connection's own terms: over TLS when the gateway serves TLS.</summary>
    private async Task RefuseAsync(Socket socket, CancellationToken ct)
    {
        var peer = socket.RemoteEndPoint;
        await using var stream = await SecureAsync(new NetworkStream(socket, ownsSocket: true), peer, ct);
        if (stream is null)
        {
            return;
        }
        var refusal = Replies.Failure(HostErrorCodes.TooManyConnections, "the gateway has too many host connections busy; try again later");
        try
        {
            await stream.WriteAsync((byte[])[.. HostJson.Serialize(refusal), (byte)'\n'], ct);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
        {
            LogConnectionLost(_logger, peer, ex.Message);
        }
    }

    /// <summary>TLS when the gateway has a certificate: the handshake must finish within the partial-request deadline.</summary>
    private async Task<Stream?> SecureAsync(NetworkStream network, EndPoint? peer, CancellationToken ct)
    {
        if (_certificate is null)
        {
            return network;
        }
        var tls = new SslStream(network, leaveInnerStreamOpen: false);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(PartialRequestTimeout);
        try
        {
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, deadline.Token);
            return tls;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException)
        {
            LogTlsFailed(_logger, peer, ex.Message);
            await tls.DisposeAsync();
            return null;
        }
    }

    private async Task ServeAsync(Socket socket, ConnectionTable.Slot slot, CancellationToken ct)
    {
        var peer = socket.RemoteEndPoint;
        await using var stream = await SecureAsync(new NetworkStream(socket, ownsSocket: true), peer, ct);
        if (stream is null)
        {
            return;
        }
        using var connection = new HostConnection(stream, peer, _dispatcher, Authorized, new ConnectionDeadlines(IdleTimeout, PartialRequestTimeout), _logger, slot.SetBusy);
        await connection.ServeAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        if (_acceptLoop is not null)
        {
            await _acceptLoop;
        }
        Task[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
        }
        await Task.WhenAll(connections);
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Host {Peer}: refusal not delivered: {Reason}")]
    private static partial void LogConnectionLost(ILogger logger, EndPoint? peer, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused host connection from {Peer}: every connection busy (at most {Max}, and per peer)")]
    private static partial void LogRefused(ILogger logger, EndPoint? peer, int max);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Host API: accept failed ({Reason}); trying again shortly")]
    private static partial void LogAcceptFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Host {Peer}: TLS handshake failed: {Reason}")]
    private static partial void LogTlsFailed(ILogger logger, EndPoint? peer, string reason);

}
