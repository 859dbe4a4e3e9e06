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
    private readonly SemaphoreSlim _slots = new(MaxInFlight, MaxInFlight);
    private readonly List<Task> _running = [];
    private readonly Action<bool> _busy;

    /// <summary>Answers waiting to be written to a host that does not read: past this, the connection is cut.</summary>
    public const long MaxPendingBytes = 8L << 20;

    private readonly CancellationTokenSource _cut = new();
    private long _pendingBytes;
    private int _inFlight;

    /// <summary>When the unfinished request line's first byte came (Stopwatch timestamp); null when no line is half-read.</summary>
    private long? _partialSince;

    /// <param name="busy">Told whether the connection is busy (a request running or half-sent), so that an idle one can make room for a newcomer.</param>
    public HostConnection(Stream stream, EndPoint? peer, RequestDispatcher dispatcher, Func<HostRequest, bool> authorized, ConnectionDeadlines deadlines, ILogger logger, Action<bool>? busy = null)
    {
        _stream = stream;
        _peer = peer;
        _dispatcher = dispatcher;
        _authorized = authorized;
        _deadlines = deadlines;
        _logger = logger;
        _busy = busy ?? (_ => { });
    }

    private void ReportBusy() => _busy(Volatile.Read(ref _inFlight) > 0 || _partialSince is not null);

    public async Task ServeAsync(CancellationToken ct)
    {
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(ct, _cut.Token);
        // Streams (logs --follow) end when the host stops sending; answers owed to ordinary
        // requests are still written after a half-close.
        using var hostGone = CancellationTokenSource.CreateLinkedTokenSource(connection.Token);
        var reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true));
        var framing = new RequestFraming();
        try
        {
            ReportBusy();
            var open = true;
            while (open)
            {
                var read = await ReadWithDeadlineAsync(reader, connection.Token);
                if (read is not { } result)
                {
                    break;
                }
                var buffer = result.Buffer;
                while (open && framing.TryRead(ref buffer, out var framed))
                {
                    open = await DispatchAsync(framed, connection.Token, hostGone.Token);
                    // A complete line ends the request's deadline; what follows it starts a new one.
                    _partialSince = null;
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (!buffer.IsEmpty || framing.IsDiscarding)
                {
                    _partialSince ??= System.Diagnostics.Stopwatch.GetTimestamp();
                }
                ReportBusy();
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
    private async Task<ReadResult?> ReadWithDeadlineAsync(PipeReader reader, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var partial = _partialSince is not null;
        var partialFor = _partialSince is { } since ? System.Diagnostics.Stopwatch.GetElapsedTime(since) : (TimeSpan?)null;
        if (_deadlines.ForNextRead(!_running.TrueForAll(t => t.IsCompleted), partialFor) is { } limit)
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

    /// <summary>
    /// A refusal is answered at once; an authorized request starts running (waiting for a slot when
    /// <see cref="MaxInFlight"/> run). False ends the connection: a host without the token gets its
    /// answer and nothing more, so it cannot hold a connection open.
    /// </summary>
    private async Task<bool> DispatchAsync(Framed framed, CancellationToken ct, CancellationToken hostGone)
    {
        if (framed.Refusal is { } refusal)
        {
            await RespondAsync(refusal, ct);
            return true;
        }
        var request = framed.Request!;
        if (!_authorized(request))
        {
            LogUnauthorized(_logger, _peer, request.Op);
            var denied = Replies.Failure(HostErrorCodes.Unauthorized, "this gateway requires a valid token (--token or WASMORCH_TOKEN); closing the connection");
            denied.Id = request.Id;
            await RespondAsync(denied, ct);
            return false;
        }
        await _slots.WaitAsync(ct);
        Interlocked.Increment(ref _inFlight);
        ReportBusy();
        _running.RemoveAll(t => t.IsCompleted);
        _running.Add(RequestDispatcher.IsFollow(request) ? FollowAsync(request, hostGone) : RunAsync(request, ct));
        return true;
    }

    /// <summary>A request finished: its slot is free, and the connection may be idle again.</summary>
    private void Finished()
    {
        Interlocked.Decrement(ref _inFlight);
        _slots.Release();
        ReportBusy();
    }

    private async Task RunAsync(HostRequest request, CancellationToken ct)
    {
        try
        {
            HostResponse response;
            try
            {
                response = await _dispatcher.HandleFromHostAsync(request, ct, e => EmitAsync(e, ct));
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
            Finished();
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
            await _dispatcher.FollowAsync(request, response => RespondAsync(response, ct), ct);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            LogResponseLost(_logger, request.Id, "stream ended: " + ex.Message);
        }
        finally
        {
            Finished();
        }
    }

    /// <summary>
    /// Writes one answer. A host that stops reading cannot make the gateway hold its answers without
    /// bound: past <see cref="MaxPendingBytes"/> waiting, or an answer not written within
    /// <see cref="WriteTimeout"/>, the connection is cut.
    /// </summary>
    private async Task RespondAsync(HostResponse response, CancellationToken ct)
    {
        // One write per answer, its LF included (one segment on the wire, not two).
        byte[] line = [.. HostJson.Serialize(response), (byte)'\n'];
        if (Interlocked.Add(ref _pendingBytes, line.Length) > MaxPendingBytes)
        {
            Interlocked.Add(ref _pendingBytes, -line.Length);
            Cut($"more than {MaxPendingBytes} bytes of answers wait for a host that does not read");
            throw new IOException("the host does not read its answers");
        }
        try
        {
            // The deadlines cost nothing on the usual path: a free lock and a write the socket takes at once.
            if (!_writeLock.Wait(0, ct))
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct, _cut.Token);
                deadline.CancelAfter(_deadlines.Write);
                try
                {
                    await _writeLock.WaitAsync(deadline.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested && !_cut.IsCancellationRequested)
                {
                    Cut($"an answer waited over {_deadlines.Write.TotalSeconds:0.#} s for the answers before it to be written");
                    throw new IOException("the host does not read its answers");
                }
            }
            try
            {
                var write = _stream.WriteAsync(line, ct);
                if (!write.IsCompletedSuccessfully)
                {
                    await write.AsTask().WaitAsync(_deadlines.Write, ct);
                }
            }
            catch (TimeoutException)
            {
                Cut($"an answer took over {_deadlines.Write.TotalSeconds:0.#} s to write");
                throw new IOException("the host does not read its answers");
            }
            finally
            {
                _writeLock.Release();
            }
        }
        finally
        {
            Interlocked.Add(ref _pendingBytes, -line.Length);
        }
    }

    private void Cut(string why)
    {
        LogConnectionEnded(_logger, _peer, why);
        _cut.Cancel();
    }

    public void Dispose()
    {
        _writeLock.Dispose();
        _slots.Dispose();
        _cut.Dispose();
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
