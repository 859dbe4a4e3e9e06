using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Transport;

namespace Wasmorch.Gateway.Api;

/// <summary>
/// The host API: newline-delimited JSON over TCP. Each request runs on its own, so many may be in
/// flight on one connection; responses carry the request's id and leave in completion order.
/// </summary>
public sealed partial class HostApiServer : IAsyncDisposable
{
    /// <summary>Requests of one connection that may run at once; more wait their turn (back-pressure).</summary>
    public const int MaxInFlightPerConnection = 64;

    private readonly TcpListener _listener;
    private readonly RequestHandler _handler;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _connections = [];
    private Task? _acceptLoop;

    private readonly byte[]? _token;
    private readonly int _maxConnections;
    private int _connectionCount;

    private readonly X509Certificate2? _certificate;

    public HostApiServer(IPEndPoint endpoint, RequestHandler handler, ILogger logger, string? token = null, int maxConnections = 256, X509Certificate2? certificate = null)
    {
        _certificate = certificate;
        _listener = new TcpListener(endpoint);
        _handler = handler;
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
            var refusal = RequestHandler.Failure(HostErrorCodes.TooManyConnections, "the gateway has too many host connections; try again later");
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
        using var writeLock = new SemaphoreSlim(1, 1);
        using var inFlight = new SemaphoreSlim(MaxInFlightPerConnection, MaxInFlightPerConnection);
        using var connectionCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        var framer = new LineFramer(HostJson.MaxRequestBytes);
        var running = new List<Task>();
        // Streams (logs --follow) end when the host stops sending; answers owed to ordinary
        // requests are still written after a half-close.
        using var hostGone = CancellationTokenSource.CreateLinkedTokenSource(connectionCts.Token);
        try
        {
            var partial = false;
            while (true)
            {
                ReadResult read;
                // Deadlines only while the host owes us something: a request in flight (a long
                // wait_result, a log stream) may keep a silent connection open as long as it runs.
                using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(connectionCts.Token))
                {
                    if (running.TrueForAll(t => t.IsCompleted))
                    {
                        deadline.CancelAfter(partial ? PartialRequestTimeout : IdleTimeout);
                    }
                    try
                    {
                        read = await reader.ReadAsync(deadline.Token);
                    }
                    catch (OperationCanceledException) when (!connectionCts.IsCancellationRequested)
                    {
                        LogConnectionEnded(_logger, peer, partial ? "request line left unfinished past the deadline" : "idle past the deadline");
                        break;
                    }
                }
                var buffer = read.Buffer;
                FrameStatus status;
                while ((status = framer.TryRead(ref buffer, out var line)) != FrameStatus.NeedMore)
                {
                    if (status == FrameStatus.TooLong)
                    {
                        await RespondAsync(stream, writeLock, RequestHandler.Failure(HostErrorCodes.BadRequest,
                            $"request exceeds {HostJson.MaxRequestBytes} bytes"), connectionCts.Token);
                        continue;
                    }
                    if (IsBlank(line))
                    {
                        continue;
                    }
                    if (!HostJson.TryParseRequest(line.ToArray(), out var request, out var error))
                    {
                        await RespondAsync(stream, writeLock, RequestHandler.Failure(HostErrorCodes.BadRequest, error), connectionCts.Token);
                        continue;
                    }
                    if (!Authorized(request!))
                    {
                        LogUnauthorized(_logger, peer, request!.Op);
                        var denied = RequestHandler.Failure(HostErrorCodes.Unauthorized, "this gateway requires a valid token (--token or WASMORCH_TOKEN)");
                        denied.Id = request.Id;
                        await RespondAsync(stream, writeLock, denied, connectionCts.Token);
                        continue;
                    }
                    await inFlight.WaitAsync(connectionCts.Token);
                    running.RemoveAll(t => t.IsCompleted);
                    running.Add(request!.Op == HostOps.Logs && request.Follow
                        ? FollowAsync(request, stream, writeLock, inFlight, hostGone.Token)
                        : RunRequestAsync(request, stream, writeLock, inFlight, connectionCts.Token));
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                partial = !buffer.IsEmpty || framer.IsDiscarding;
                if (read.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
        {
            LogConnectionEnded(_logger, peer, ex.Message);
        }
        finally
        {
            // Responses still owed are written before the socket closes; a host that half-closes
            // its side after sending still gets every answer.
            await hostGone.CancelAsync();
            await Task.WhenAll(running);
            await connectionCts.CancelAsync();
            await reader.CompleteAsync();
        }
    }

    private async Task RunRequestAsync(HostRequest request, Stream stream, SemaphoreSlim writeLock, SemaphoreSlim inFlight, CancellationToken ct)
    {
        try
        {
            HostResponse response;
            try
            {
                response = await _handler.HandleAsync(request, ct, e => EmitAsync(stream, writeLock, e, ct));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A bug or an unforeseen failure: the host still gets an answer, and the log the details.
                LogRequestFailed(_logger, ex, request.Id, request.Op);
                response = RequestHandler.Failure(HostErrorCodes.Internal, $"internal error ({ex.GetType().Name}: {ex.Message}); see the gateway log");
                response.Id = request.Id;
            }
            LogRequest(_logger, request.Id, request.Op, request.Device, response.Ok, response.Error?.Code);
            await RespondAsync(stream, writeLock, response, ct);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            LogResponseLost(_logger, request.Id, ex.Message);
        }
        finally
        {
            inFlight.Release();
        }
    }

    /// <summary>An intermediate event (progress): best effort, a failure to send it is logged, never thrown.</summary>
    private async Task EmitAsync(Stream stream, SemaphoreSlim writeLock, HostResponse response, CancellationToken ct)
    {
        try
        {
            await RespondAsync(stream, writeLock, response, ct);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            LogResponseLost(_logger, response.Id, "event: " + ex.Message);
        }
    }

    private async Task FollowAsync(HostRequest request, Stream stream, SemaphoreSlim writeLock, SemaphoreSlim inFlight, CancellationToken ct)
    {
        try
        {
            await _handler.FollowLogsAsync(request, response => RespondAsync(stream, writeLock, response, ct), ct);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            LogResponseLost(_logger, request.Id, "log stream ended: " + ex.Message);
        }
        finally
        {
            inFlight.Release();
        }
    }

    private static async Task RespondAsync(Stream stream, SemaphoreSlim writeLock, HostResponse response, CancellationToken ct)
    {
        var bytes = HostJson.Serialize(response);
        await writeLock.WaitAsync(ct);
        try
        {
            await stream.WriteAsync(bytes, ct);
            await stream.WriteAsync("\n"u8.ToArray(), ct);
        }
        finally
        {
            writeLock.Release();
        }
    }

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            foreach (var b in segment.Span)
            {
                if (b is not ((byte)' ' or (byte)'\r' or (byte)'\t'))
                {
                    return false;
                }
            }
        }
        return true;
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Request {Id} {Op} {Device}: ok={Ok} {Error}")]
    private static partial void LogRequest(ILogger logger, long id, string? op, string? device, bool ok, string? error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Host connection {Peer} ended: {Reason}")]
    private static partial void LogConnectionEnded(ILogger logger, EndPoint? peer, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Unauthorized request from {Peer} ({Op})")]
    private static partial void LogUnauthorized(ILogger logger, EndPoint? peer, string? op);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused host connection from {Peer}: {Max} connections already")]
    private static partial void LogRefused(ILogger logger, EndPoint? peer, int max);

    [LoggerMessage(Level = LogLevel.Error, Message = "Request {Id} ({Op}) failed unexpectedly")]
    private static partial void LogRequestFailed(ILogger logger, Exception exception, long id, string? op);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Host {Peer}: TLS handshake failed: {Reason}")]
    private static partial void LogTlsFailed(ILogger logger, EndPoint? peer, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Response to request {Id} could not be sent: {Reason}")]
    private static partial void LogResponseLost(ILogger logger, long id, string reason);
}
