using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Devices;

/// <summary>What a connection reports as it routes lines; each runs on the read loop and must not block.</summary>
internal sealed record ConnectionEvents(
    Action<AgentLine>? Log = null,
    Action<AgentLine>? Event = null,
    Action<long, AgentLine>? JobEnded = null,
    Action<string>? Reset = null,
    Action<string>? Closed = null,
    bool FirstLink = false);

/// <summary>
/// One open link to a device. A read loop takes every line the agent sends and routes it: the
/// reply to the single outstanding command, RESULT lines of jobs to their waiters (or keeps them
/// for a waiter yet to come), anything else is logged and skipped as stray.
/// </summary>
internal sealed partial class DeviceConnection : IAsyncDisposable
{
    /// <summary>Finished jobs remembered for a late <c>wait_result</c>.</summary>
    private const int FinishedJobsKept = 256;

    private readonly string _device;
    private readonly Stream _stream;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _closing = new();
    private readonly object _gate = new();
    private readonly Dictionary<long, TaskCompletionSource<AgentLine>> _jobWaiters = [];
    private readonly Dictionary<long, AgentLine> _finished = [];
    private readonly Queue<long> _finishedOrder = new();
    private readonly Task _readLoop;
    private (TaskCompletionSource<AgentLine> Reply, Func<AgentLine, bool> Accepts, Action<AgentLine>? OnAccepted)? _pending;
    private string? _closeReason;

    private readonly ConnectionEvents _events;

    public DeviceConnection(string device, Stream stream, ILogger logger, ConnectionEvents? events = null)
    {
        _device = device;
        _stream = stream;
        _logger = logger;
        _events = events ?? new ConnectionEvents();
        _readLoop = ReadLoopAsync(_closing.Token);
    }

    public bool IsOpen => Volatile.Read(ref _closeReason) is null;

    /// <summary>Sends one command line and waits for the reply that <paramref name="accepts"/> recognises.</summary>
    /// <param name="onAccepted">Runs on the read loop as the reply is taken, before any later line is routed.</param>
    public Task<AgentLine> RequestAsync(AgentLineBuilder command, Func<AgentLine, bool> accepts, TimeSpan timeout, CancellationToken ct, Action<AgentLine>? onAccepted = null) =>
        SendAndWaitAsync(command.ToBytes(), command.Verb, accepts, timeout, ct, onAccepted: onAccepted);

    /// <summary>Writes a LOAD payload in chunks, reporting bytes sent, and waits for the agent's verdict on it.</summary>
    public Task<AgentLine> RequestAfterWriteAsync(ReadOnlyMemory<byte> payload, IProgress<long>? progress, Func<AgentLine, bool> accepts, TimeSpan timeout, CancellationToken ct) =>
        SendAndWaitAsync(payload, "the LOAD payload", accepts, timeout, ct, progress);

    /// <summary>
    /// Writes an XLOAD stream from <paramref name="from"/> (§6b), never more than
    /// <paramref name="window"/> bytes beyond the agent's last XACK, and waits for its verdict.
    /// </summary>
    public Task<AgentLine> RequestAfterWindowedWriteAsync(ReadOnlyMemory<byte> stream, long from, int window, IProgress<long>? progress, Func<AgentLine, bool> accepts, TimeSpan timeout, CancellationToken ct)
    {
        lock (_gate)
        {
            _acknowledged = from;
        }
        return SendAndWaitAsync("the XLOAD stream", verdict => WriteWindowedAsync(stream, from, window, progress, verdict, timeout, ct), accepts, timeout, ct);
    }

    /// <summary>Writes raw bytes (not a command line) and waits for the reply that <paramref name="accepts"/> recognises.</summary>
    public Task<AgentLine> RequestRawAsync(ReadOnlyMemory<byte> bytes, string what, Func<AgentLine, bool> accepts, TimeSpan timeout, CancellationToken ct) =>
        SendAndWaitAsync(bytes, what, accepts, timeout, ct);

    /// <summary>Progress granularity: about 90 ms of a 115200-baud wire.</summary>
    private const int PayloadChunk = 1024;

    /// <summary>The stream offset the agent last acknowledged (XACK) during an XLOAD.</summary>
    private long _acknowledged;

    private TaskCompletionSource _acknowledgedMore = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Acknowledge(AgentLine xack)
    {
        TaskCompletionSource? signal = null;
        lock (_gate)
        {
            if (xack.TryGetInt64(AgentKeys.Offset, out var offset) && offset > _acknowledged)
            {
                _acknowledged = offset;
                signal = _acknowledgedMore;
                _acknowledgedMore = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
        signal?.TrySetResult();
    }

    private async Task WriteWindowedAsync(ReadOnlyMemory<byte> stream, long from, int window, IProgress<long>? progress, Task<AgentLine> verdict, TimeSpan timeout, CancellationToken ct)
    {
        for (var sent = from; sent < stream.Length && !verdict.IsCompleted;)
        {
            long acknowledged;
            Task more;
            lock (_gate)
            {
                acknowledged = _acknowledged;
                more = _acknowledgedMore.Task;
            }
            var room = acknowledged + window - sent;
            if (room <= 0)
            {
                // The agent's receive buffer may be full: nothing more until it says it took some (or answers).
                await Task.WhenAny(more, verdict).WaitAsync(timeout, ct);
                continue;
            }
            var chunk = (int)Math.Min(Math.Min(room, PayloadChunk), stream.Length - sent);
            await WriteAsync(stream.Slice((int)sent, chunk), timeout, ct);
            sent += chunk;
            progress?.Report(sent);
        }
    }

    private Task<AgentLine> SendAndWaitAsync(ReadOnlyMemory<byte> bytes, string what, Func<AgentLine, bool> accepts, TimeSpan timeout, CancellationToken ct, IProgress<long>? progress = null, Action<AgentLine>? onAccepted = null) =>
        SendAndWaitAsync(what, async verdict =>
        {
            if (progress is null)
            {
                await WriteAsync(bytes, timeout, ct);
                return;
            }
            for (var sent = 0; sent < bytes.Length && !verdict.IsCompleted;)
            {
                var chunk = Math.Min(PayloadChunk, bytes.Length - sent);
                await WriteAsync(bytes.Slice(sent, chunk), timeout, ct);
                sent += chunk;
                progress.Report(sent);
            }
        }, accepts, timeout, ct, onAccepted);

    private async Task<AgentLine> SendAndWaitAsync(string what, Func<Task<AgentLine>, Task> write, Func<AgentLine, bool> accepts, TimeSpan timeout, CancellationToken ct, Action<AgentLine>? onAccepted = null)
    {
        // The wait is armed before the first byte goes out: an agent may answer before the write completes.
        var reply = new TaskCompletionSource<AgentLine>();
        lock (_gate)
        {
            ThrowIfClosed();
            _pending = (reply, accepts, onAccepted);
            _strayWhilePending = null;
        }
        try
        {
            await write(reply.Task);
            return await reply.Task.WaitAsync(timeout, ct);
        }
        catch (TimeoutException)
        {
            // The reason is often a reply this gateway could not read (an empty value, a line past
            // 256 bytes): the host hears it, not only the gateway's log.
            string? stray;
            lock (_gate)
            {
                stray = _strayWhilePending;
            }
            throw new GatewayException(HostErrorCodes.Timeout, $"{_device} did not answer {what} within {timeout.TotalMilliseconds:0} ms"
                + (stray is null ? "" : $"; meanwhile it sent a line that is not protocol: {stray}"));
        }
        finally
        {
            lock (_gate)
            {
                if (_pending?.Reply == reply)
                {
                    _pending = null;
                }
            }
        }
    }

    /// <summary>Writes raw bytes (a LOAD payload) with a deadline.</summary>
    public async Task WriteAsync(ReadOnlyMemory<byte> bytes, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct, _closing.Token);
        deadline.CancelAfter(timeout);
        try
        {
            await _stream.WriteAsync(bytes, deadline.Token);
            await _stream.FlushAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            ThrowIfClosed();
            throw new GatewayException(HostErrorCodes.Timeout, $"writing to {_device} did not finish within {timeout.TotalMilliseconds:0} ms");
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // A serial port that vanished mid-write fails in any of these ways.
            Close($"write failed: {ex.Message}");
            ThrowIfClosed();
        }
    }

    /// <summary>Waits for the RESULT of <paramref name="job"/>, which may already have arrived.</summary>
    public async Task<AgentLine> WaitForJobAsync(long job, TimeSpan timeout, CancellationToken ct)
    {
        TaskCompletionSource<AgentLine> waiter;
        lock (_gate)
        {
            if (_finished.TryGetValue(job, out var done))
            {
                return done;
            }
            ThrowIfClosed();
            if (!_jobWaiters.TryGetValue(job, out waiter!))
            {
                waiter = new TaskCompletionSource<AgentLine>(TaskCreationOptions.RunContinuationsAsynchronously);
                _jobWaiters[job] = waiter;
            }
        }
        try
        {
            return await waiter.Task.WaitAsync(timeout, ct);
        }
        catch (TimeoutException)
        {
            throw new GatewayException(HostErrorCodes.Timeout,
                $"job {job} on {_device} was still running after {timeout.TotalMilliseconds:0} ms (it goes on; stop it or check status)");
        }
    }

    private async Task ReadLoopAsync(CancellationToken ct)
    {
        await Task.Yield();
        var reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 4096, leaveOpen: true));
        var framer = new LineFramer();
        var reason = "link closed by the device";
        try
        {
            while (true)
            {
                var read = await reader.ReadAsync(ct);
                var buffer = read.Buffer;
                FrameStatus status;
                while ((status = framer.TryRead(ref buffer, out var line)) != FrameStatus.NeedMore)
                {
                    if (status == FrameStatus.TooLong)
                    {
                        LogStray(_logger, _device, "an over-long line");
                        NoteStray($"a line longer than {ProtocolLimits.MaxLineLength} bytes");
                    }
                    else if (AgentLineParser.TryParse(line, out var parsed, out var error))
                    {
                        Route(parsed!);
                    }
                    else if (error.Kind != LineParseErrorKind.Empty)
                    {
                        LogStray(_logger, _device, error.ToString());
                        var text = System.Text.Encoding.ASCII.GetString(System.Buffers.BuffersExtensions.ToArray(line));
                        NoteStray($"'{(text.Length > 80 ? text[..77] + "..." : text)}' ({error})");
                    }
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            reason = "link closed by the gateway";
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            reason = $"link failed: {ex.Message}";
        }
        finally
        {
            await reader.CompleteAsync();
            Close(reason);
        }
    }

    /// <summary>The highest uptime_ms the agent reported on this link; a lower one means it restarted.</summary>
    private long _lastUptime = -1;

    /// <summary>An unreadable line that came while a command awaited its reply (the first one is kept).</summary>
    private string? _strayWhilePending;

    private void NoteStray(string what)
    {
        lock (_gate)
        {
            if (_pending is not null)
            {
                _strayWhilePending ??= what;
            }
        }
    }

    private void Route(AgentLine line)
    {
        if (line.Verb == AgentVerbs.Boot)
        {
            // On this gateway's first link, a BOOT says the board started while no one listened (the
            // firmware prints it at power-on; an emulated board sends it to its first peer): news,
            // not a fault. The observers still learn it: jobs recorded as running ended with it.
            DeviceReset(_events.FirstLink ? $"{_device} started before this gateway's first link to it (boot line: {line})" : $"{_device} restarted (boot line: {line})",
                _events.FirstLink ? LogLevel.Information : LogLevel.Warning);
            return;
        }
        if (line.TryGetInt64(AgentKeys.UptimeMs, out var uptime) && line.Verb is AgentVerbs.Status or AgentVerbs.Pong)
        {
            var previous = Interlocked.Exchange(ref _lastUptime, uptime);
            if (uptime < previous)
            {
                DeviceReset($"{_device} restarted (uptime went from {previous} ms back to {uptime} ms)");
            }
        }
        // Waiters are completed outside the lock: their continuations run inline (no thread hop
        // on the reply path) and must never run while this connection's state is locked.
        TaskCompletionSource<AgentLine>? complete = null;
        lock (_gate)
        {
            if (line.Verb == AgentVerbs.Result && line.TryGetInt64(AgentKeys.Job, out var job))
            {
                _jobWaiters.Remove(job, out complete);
                _events.JobEnded?.Invoke(job, line);
                _finished[job] = line;
                _finishedOrder.Enqueue(job);
                while (_finishedOrder.Count > FinishedJobsKept)
                {
                    _finished.Remove(_finishedOrder.Dequeue());
                }
            }
            else if (_pending is { } pending && pending.Accepts(line))
            {
                _pending = null;
                complete = pending.Reply;
                pending.OnAccepted?.Invoke(line);
            }
        }
        if (complete is not null || line.Verb == AgentVerbs.Result)
        {
            complete?.TrySetResult(line);
            return;
        }
        if (line.Verb == AgentVerbs.Xack)
        {
            Acknowledge(line);
            return;
        }
        if (line.Verb == AgentVerbs.Event && _events.Event is { } published)
        {
            published(line);
            return;
        }
        if (line.Verb == AgentVerbs.Log)
        {
            LogFromDevice(_logger, _device, line);
            _events.Log?.Invoke(line);
            return;
        }
        LogStray(_logger, _device, line.ToString());
    }

    /// <summary>
    /// The board restarted under a live link (a serial line survives a reset): jobs awaited on it
    /// will never report, so their waiters learn it now instead of at their deadline.
    /// </summary>
    private void DeviceReset(string reason, LogLevel level = LogLevel.Warning)
    {
        List<TaskCompletionSource<AgentLine>> waiters;
        lock (_gate)
        {
            waiters = [.. _jobWaiters.Values];
            _jobWaiters.Clear();
            _finished.Clear();
            _finishedOrder.Clear();
        }
        LogReset(_logger, level, _device, reason);
        _events.Reset?.Invoke(reason);
        var error = new GatewayException(HostErrorCodes.DeviceReset, reason + "; its running job is lost");
        foreach (var waiter in waiters)
        {
            waiter.TrySetException(error);
        }
    }

    /// <summary>Fails every waiter: the link is gone and job numbers may restart on the next one.</summary>
    public void Close(string reason)
    {
        List<TaskCompletionSource<AgentLine>> waiters;
        TaskCompletionSource<AgentLine>? pending;
        lock (_gate)
        {
            if (_closeReason is not null)
            {
                return;
            }
            _closeReason = reason;
            waiters = [.. _jobWaiters.Values];
            _jobWaiters.Clear();
            pending = _pending?.Reply;
            _pending = null;
        }
        LogClosed(_logger, _device, reason);
        _events.Closed?.Invoke(reason);
        var error = new GatewayException(HostErrorCodes.DeviceUnreachable, $"{_device}: {reason}");
        pending?.TrySetException(error);
        foreach (var waiter in waiters)
        {
            waiter.TrySetException(error);
        }
        _closing.Cancel();
    }

    private void ThrowIfClosed()
    {
        var reason = Volatile.Read(ref _closeReason);
        if (reason is not null)
        {
            throw new GatewayException(HostErrorCodes.DeviceUnreachable, $"{_device}: {reason}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        Close("link closed by the gateway");
        await _stream.DisposeAsync();
        await _readLoop;
        _closing.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Device {Device}: skipped stray input: {What}")]
    private static partial void LogStray(ILogger logger, string device, string what);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Device {Device}: {Line}")]
    private static partial void LogFromDevice(ILogger logger, string device, AgentLine line);

    [LoggerMessage(Message = "Device {Device}: {Reason}")]
    private static partial void LogReset(ILogger logger, LogLevel level, string device, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {Device}: link closed: {Reason}")]
    private static partial void LogClosed(ILogger logger, string device, string reason);
}
