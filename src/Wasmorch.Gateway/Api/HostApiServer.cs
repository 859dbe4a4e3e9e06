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
    private int _connectionCount;

    private readonly X509Certificate2? _certificate;

    public HostApiServer(IPEndPoint endpoint, RequestDispatcher dispatcher, ILogger logger, string? token = null, int maxConnections = 256, X509Certificate2? certificate = null)
    {
        _certificate = certificate;
        _listener = new TcpListener(endpoint);
        _dispatcher = dispatcher;
        _logger = logger;
        _token = token is null ? null : System.Text.Encoding.UTF8.GetBytes(token);
        _maxConnections = maxConnections;
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
        if (Interlocked.Increment(ref _connectionCount) > _maxConnections)
        {
            Interlocked.Decrement(ref _connectionCount);
            LogRefused(_logger, socket.RemoteEndPoint, _maxConnections);
            _ = RefuseAsync(socket);
            return Task.CompletedTask;
        }
        lock (_connections)
        {
            _connections.RemoveAll(t => t.IsCompleted);
            _connections.Add(ServeCountedAsync(socket, ct));
        }
        return Task.CompletedTask;
    }, ct);

    private async Task ServeCountedAsync(Socket socket, CancellationToken ct)
    {
        try
        {
            await ServeAsync(socket, ct);
        }
        finally
        {
            Interlocked.Decrement(ref _connectionCount);
        }
    }

    private static async Task RefuseAsync(Socket socket)
    {
        using (socket)
        {
            var refusal = Replies.Failure(HostErrorCodes.TooManyConnections, "the gateway has too many host connections; try again later");
            try
            {
                await socket.SendAsync((byte[])[.. HostJson.Serialize(refusal), (byte)'\n']);
            }
            catch (SocketException)
            {
                // The peer is gone already; nothing else to tell it.
            }
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

    private async Task ServeAsync(Socket socket, CancellationToken ct)
    {
        var peer = socket.RemoteEndPoint;
        await using var stream = await SecureAsync(new NetworkStream(socket, ownsSocket: true), peer, ct);
        if (stream is null)
        {
            return;
        }
        using var connection = new HostConnection(stream, peer, _dispatcher, Authorized, new ConnectionDeadlines(IdleTimeout, PartialRequestTimeout), _logger);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused host connection from {Peer}: {Max} connections already")]
    private static partial void LogRefused(ILogger logger, EndPoint? peer, int max);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Host {Peer}: TLS handshake failed: {Reason}")]
    private static partial void LogTlsFailed(ILogger logger, EndPoint? peer, string reason);

}
