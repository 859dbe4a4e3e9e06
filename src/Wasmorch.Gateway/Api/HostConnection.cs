using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Wasmorch.Gateway.Api.Ops;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Api;

/// <summary>
/// One host connection: reads requests (<see cref="RequestFraming"/>) within the
/// <see cref="ConnectionDeadlines"/>, and dispatches each to run on its own, so many may be in
/// flight; responses carry the request's id and leave in completion order, one at a time.
/// </summary>
internal sealed partial class HostConnection : IDisposable
{
    /// <summary>Requests of one connection that may run at once; more wait their turn (back-pressure).</summary>
    public const int MaxInFlight = 64;

    private readonly Stream _stream;
    private readonly EndPoint? _peer;
    private readonly RequestDispatcher _dispatcher;
    private readonly Func<HostRequest, bool> _authorized;
    private readonly ConnectionDeadlines _deadlines;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SemaphoreSlim _inFlight = new(MaxInFlight, MaxInFlight);
    private readonly List<Task> _running = [];

    public HostConnection(Stream stream, EndPoint? peer, RequestDispatcher dispatcher, Func<HostRequest, bool> authorized, ConnectionDeadlines deadlines, ILogger logger)
    {
        _stream = stream;
        _peer = peer;
        _dispatcher = dispatcher;
        _authorized = authorized;
        _deadlines = deadlines;
        _logger = logger;
    }

    public async Task ServeAsync(CancellationToken ct)
    {
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // Streams (logs --follow) end when the host stops sending; answers owed to ordinary
        // requests are still written after a half-close.
        using var hostGone = CancellationTokenSource.CreateLinkedTokenSource(connection.Token);
        var reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true));
        var framing = new RequestFraming();
        try
        {
            var partial = false;
            while (true)
            {
                var read = await ReadWithDeadlineAsync(reader, partial, connection.Token);
                if (read is not { } result)
                {
                    break;
                }
                var buffer = result.Buffer;
                while (framing.TryRead(ref buffer, out var framed))
                {
                    await DispatchAsync(framed, connection.Token, hostGone.Token);
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                partial = !buffer.IsEmpty || framing.IsDiscarding;
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException)
        {
            LogConnectionEnded(_logger, _peer, ex.Message);
        }
        finally
        {
            // Responses still owed are written before the socket closes; a host that half-closes
            // its side after sending still gets every answer.
            await hostGone.CancelAsync();
            await Task.WhenAll(_running);
            await connection.CancelAsync();
            await reader.CompleteAsync();
        }
    }

    /// <summary>The next bytes, or null when the connection's deadline passed (<see cref="ConnectionDeadlines"/>).</summary>
    private async Task<ReadResult?> ReadWithDeadlineAsync(PipeReader reader, bool partial, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (_deadlines.ForNextRead(!_running.TrueForAll(t => t.IsCompleted), partial) is { } limit)
        {
            deadline.CancelAfter(limit);
        }
        try
        {
            return await reader.ReadAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            var reason = ConnectionDeadlines.Describe(partial);
            LogConnectionEnded(_logger, _peer, reason);
            return null;
        }
    }

    /// <summary>A refusal is answered at once; an authorized request starts running (waiting for a slot when <see cref="MaxInFlight"/> run).</summary>
    private async Task DispatchAsync(Framed framed, CancellationToken ct, CancellationToken hostGone)
    {
        if (framed.Refusal is { } refusal)
        {
            await RespondAsync(refusal, ct);
            return;
        }
        var request = framed.Request!;
        if (!_authorized(request))
        {
            LogUnauthorized(_logger, _peer, request.Op);
            var denied = Replies.Failure(HostErrorCodes.Unauthorized, "this gateway requires a valid token (--token or WASMORCH_TOKEN)");
            denied.Id = request.Id;
            await RespondAsync(denied, ct);
            return;
        }
        await _inFlight.WaitAsync(ct);
        _running.RemoveAll(t => t.IsCompleted);
        _running.Add(request.Op == HostOps.Logs && request.Follow ? FollowAsync(request, hostGone) : RunAsync(request, ct));
    }

    private async Task RunAsync(HostRequest request, CancellationToken ct)
    {
        try
        {
            HostResponse response;
            try
            {
                response = await _dispatcher.HandleAsync(request, ct, e => EmitAsync(e, ct));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A bug or an unforeseen failure: the host still gets an answer, and the log the details.
                LogRequestFailed(_logger, ex, request.Id, request.Op);
                response = Replies.Failure(HostErrorCodes.Internal, $"internal error ({ex.GetType().Name}: {ex.Message}); see the gateway log");
                response.Id = request.Id;
            }
            LogRequest(_logger, request.Id, request.Op, request.Device, response.Ok, response.Error?.Code);
            await RespondAsync(response, ct);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            LogResponseLost(_logger, request.Id, ex.Message);
        }
        finally
        {
            _inFlight.Release();
        }
    }

    /// <summary>An intermediate event (progress): best effort, a failure to send it is logged, never thrown.</summary>
    private async Task EmitAsync(HostResponse response, CancellationToken ct)
    {
        try
        {
            await RespondAsync(response, ct);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            LogResponseLost(_logger, response.Id, "event: " + ex.Message);
        }
    }

    private async Task FollowAsync(HostRequest request, CancellationToken ct)
    {
        try
        {
            await _dispatcher.FollowLogsAsync(request, response => RespondAsync(response, ct), ct);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            LogResponseLost(_logger, request.Id, "log stream ended: " + ex.Message);
        }
        finally
        {
            _inFlight.Release();
        }
    }

    private async Task RespondAsync(HostResponse response, CancellationToken ct)
    {
        var bytes = HostJson.Serialize(response);
        await _writeLock.WaitAsync(ct);
        try
        {
            await _stream.WriteAsync(bytes, ct);
            await _stream.WriteAsync("\n"u8.ToArray(), ct);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public void Dispose()
    {
        _writeLock.Dispose();
        _inFlight.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Request {Id} {Op} {Device}: ok={Ok} {Error}")]
    private static partial void LogRequest(ILogger logger, long id, string? op, string? device, bool ok, string? error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Host connection {Peer} ended: {Reason}")]
    private static partial void LogConnectionEnded(ILogger logger, EndPoint? peer, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Unauthorized request from {Peer} ({Op})")]
    private static partial void LogUnauthorized(ILogger logger, EndPoint? peer, string? op);

    [LoggerMessage(Level = LogLevel.Error, Message = "Request {Id} ({Op}) failed unexpectedly")]
    private static partial void LogRequestFailed(ILogger logger, Exception exception, long id, string? op);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Response to request {Id} could not be sent: {Reason}")]
    private static partial void LogResponseLost(ILogger logger, long id, string reason);
}
