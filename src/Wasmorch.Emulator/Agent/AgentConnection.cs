using System.Buffers;
using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using Wasmorch.Protocol.Agent;

namespace Wasmorch.Emulator.Agent;

/// <summary>
/// The COMM loop of one link connection: a receive pump fills a bounded pipe (the emulated UART
/// ring buffer), and this loop takes lines and LOAD payloads out of it in any fragmentation.
/// </summary>
internal sealed partial class AgentConnection : IDisposable
{
    /// <summary>Bytes buffered before the receive pump stops reading (flow control, not loss): a whole module fits.</summary>
    private const int ReceiveBufferBytes = 64 * 1024;

    /// <summary>The most one read of the link takes (a serial link gives far less at a time).</summary>
    private const int ReadChunkBytes = 16 * 1024;

    private readonly Board _board;
    private readonly CommandHandler _commands;
    private readonly ILogger _logger;
    private readonly Pipe _rx = new(new PipeOptions(pauseWriterThreshold: ReceiveBufferBytes, resumeWriterThreshold: ReceiveBufferBytes / 2, useSynchronizationContext: false));
    private readonly LineFramer _framer = new();
    private readonly AgentOutput _output;
    private readonly Func<CancellationToken, Task>? _onAuthenticated;

    /// <param name="onAuthenticated">On a board with a link key, called once this peer passes AUTH, before the board's lines come to it (the link is taken over then).</param>
    public AgentConnection(Board board, ILogger logger, Func<CancellationToken, Task>? onAuthenticated = null)
    {
        _board = board;
        _onAuthenticated = onAuthenticated;
        _commands = new CommandHandler(board);
        _logger = logger;
        _output = new AgentOutput(board.Name, logger);
    }

    public async Task RunAsync(Stream stream, CancellationToken ct)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (!Secured)
        {
            _board.Attach(_output);
        }
        if (!_board.Options.Baseline && _board.TakeBootAnnouncement())
        {
            // §6: the board has just started; the first peer to connect hears it (a UART would have carried it to whoever listened).
            _output.TryEnqueue(_commands.Boot());
        }
        var receive = ReceiveAsync(stream, linked.Token);
        var transmit = _output.PumpAsync(stream, linked.Token);
        try
        {
            await ProcessAsync(_rx.Reader, linked.Token);
        }
        finally
        {
            _board.Detach(_output);
            _output.Complete();
            await linked.CancelAsync();
            await Task.WhenAll(Quietly(receive), Quietly(transmit));
        }
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The connection is being torn down; these are its normal ways to end.
        }
    }

    private async Task ReceiveAsync(Stream stream, CancellationToken ct)
    {
        var writer = _rx.Writer;
        try
        {
            while (true)
            {
                var memory = writer.GetMemory(ReadChunkBytes);
                var read = await stream.ReadAsync(memory, ct);
                if (read == 0)
                {
                    break;
                }
                writer.Advance(read);
                var flush = await writer.FlushAsync(ct);
                if (flush.IsCompleted)
                {
                    break;
                }
            }
        }
        finally
        {
            await writer.CompleteAsync();
        }
    }

    private async Task ProcessAsync(PipeReader reader, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var read = await reader.ReadAsync(ct);
            var buffer = read.Buffer;
            var status = _framer.TryRead(ref buffer, out var lineBytes);
            switch (status)
            {
                case FrameStatus.Line:
                    var parsed = AgentLineParser.TryParse(lineBytes, out var line, out var error);
                    reader.AdvanceTo(buffer.Start);
                    if (parsed)
                    {
                        await HandleAsync(line!, reader, ct);
                    }
                    else if (error.Kind != LineParseErrorKind.Empty)
                    {
                        await SendAsync(CommandHandler.Error(AgentErrorCodes.BadCommand, error.ReplyText), ct);
                    }
                    break;
                case FrameStatus.TooLong:
                    reader.AdvanceTo(buffer.Start);
                    await SendAsync(CommandHandler.Error(AgentErrorCodes.LineTooLong, $"lines are at most {ProtocolLimits.MaxLineLength} bytes"), ct);
                    break;
                default:
                    reader.AdvanceTo(buffer.Start, buffer.End);
                    if (read.IsCompleted)
                    {
                        return;
                    }
                    break;
            }
        }
    }

    private ValueTask SendAsync(AgentLineBuilder line, CancellationToken ct) => _output.SendAsync(line, ct);

    public void Dispose() => _output.Dispose();

    /// <summary>The AUTH challenge of this link's last HELLO_OK, until AUTH uses it up.</summary>
    private string? _nonce;

    /// <summary>The peer proved it holds the board's link key (or the board has none).</summary>
    private bool _authenticated;

    /// <summary>A link key: the board's own lines (LOG, RESULT, EVENT) go only to a peer that passed AUTH (§6a).</summary>
    private bool Secured => _board.Options.LinkKey is not null && !_board.Options.Baseline;

    private async Task HandleAsync(AgentLine line, PipeReader reader, CancellationToken ct)
    {
        var secured = Secured;
        if (secured && !_authenticated && line.Verb is not (AgentVerbs.Hello or AgentVerbs.Auth or AgentVerbs.Ping))
        {
            await SendAsync(CommandHandler.NotAuthenticated(line.Verb), ct);
            return;
        }
        switch (line.Verb)
        {
            case AgentVerbs.Status:
                await SendAsync(_commands.Status(), ct);
                break;
            case AgentVerbs.Start:
                var (reply, go) = _commands.Start(line);
                try
                {
                    await SendAsync(reply, ct);
                }
                finally
                {
                    // START_OK is on the wire (or queued ahead of anything the job sends); a link that
                    // broke meanwhile does not cancel an accepted job, as on a real board.
                    go?.Invoke();
                }
                break;
            case AgentVerbs.Stop:
                await SendAsync(_commands.Stop(line), ct);
                break;
            case AgentVerbs.Load:
                await LoadAsync(line, reader, ct);
                break;
            case AgentVerbs.Xload when !_board.Options.Baseline && _board.Options.XloadWindow > 0:
                await XloadAsync(line, reader, ct);
                break;
            case AgentVerbs.Hello when !_board.Options.Baseline:
                _output.ExtensionsEnabled = true;
                _nonce = secured ? _board.Options.NewNonce() : null;
                await SendAsync(_commands.Hello(_nonce), ct);
                break;
            case AgentVerbs.Auth when secured:
                var answer = _commands.Auth(line, Interlocked.Exchange(ref _nonce, null), out var authenticated);
                await SendAsync(answer, ct);
                if (authenticated && !_authenticated)
                {
                    _authenticated = true;
                    if (_onAuthenticated is not null)
                    {
                        await _onAuthenticated(ct);
                    }
                    _board.Attach(_output);
                }
                break;
            case AgentVerbs.Ping when !_board.Options.Baseline:
                await SendAsync(new AgentLineBuilder(AgentVerbs.Pong).Add(AgentKeys.UptimeMs, _board.UptimeMs), ct);
                break;
            case AgentVerbs.Caps when !_board.Options.Baseline:
                await SendAsync(_commands.Caps(), ct);
                break;
            case AgentVerbs.Sim when !_board.Options.Baseline && _board.Options.SimulatedInputs:
                await SendAsync(_commands.Sim(line), ct);
                break;
            case AgentVerbs.Unload when !_board.Options.Baseline:
                await SendAsync(_commands.Unload(line), ct);
                break;
            default:
                await SendAsync(CommandHandler.Error(AgentErrorCodes.BadCommand, $"unknown command '{line.Verb}'"), ct);
                break;
        }
    }

    private async Task LoadAsync(AgentLine line, PipeReader reader, CancellationToken ct)
    {
        var refusal = _commands.CheckLoad(line, out var id, out var size, out var crc);
        if (refusal is not null)
        {
            await SendAsync(refusal, ct);
            return;
        }
        await SendAsync(new AgentLineBuilder(AgentVerbs.LoadReady).Add(AgentKeys.ModuleId, id), ct);
        var payload = await ReceivePayloadAsync(reader, size, ct);
        if (payload is null)
        {
            LogLoadTimeout(_logger, _board.Name, id, size);
            await SendAsync(CommandHandler.LoadError(id, AgentErrorCodes.Timeout,
                $"payload stalled for {_board.Options.LoadTimeout.TotalMilliseconds:0} ms; back in line mode"), ct);
            return;
        }
        await SendAsync(_commands.FinishLoad(id, payload, crc), ct);
    }

    /// <summary>
    /// XLOAD (§6b): the stream from where the same transfer stopped, acknowledged every half window,
    /// decoded as it comes. A stall answers TIMEOUT and a dropped link ends the connection, both
    /// keeping the transfer for the next XLOAD; a malformed stream is taken to its declared end and
    /// then refused, so that none of it is ever read as lines.
    /// </summary>
    private async Task XloadAsync(AgentLine line, PipeReader reader, CancellationToken ct)
    {
        var refusal = _commands.CheckXload(line, out var wanted);
        if (refusal is not null)
        {
            await SendAsync(refusal, ct);
            return;
        }
        var upload = _board.TakeUpload(wanted!);
        // The link this transfer came on before may still be taking its last bytes (or stalling out).
        if (!await upload.Receiving.WaitAsync(2 * _board.Options.LoadTimeout, ct))
        {
            await SendAsync(CommandHandler.Error(AgentErrorCodes.Busy, $"another link is still receiving the upload of '{upload.Id}'"), ct);
            return;
        }
        try
        {
            await ReceiveStreamAsync(upload, reader, ct);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // The link went away mid-stream: the board keeps what it took, for the next XLOAD.
            LogUploadInterrupted(_logger, _board.Name, upload.Id, upload.Consumed, upload.StreamSize);
            throw;
        }
        finally
        {
            upload.Receiving.Release();
        }
    }

    private async Task ReceiveStreamAsync(PendingUpload upload, PipeReader reader, CancellationToken ct)
    {
        var window = _board.Options.XloadWindow;
        // Acknowledged at every multiple of half the window: the same offsets however the bytes come.
        var half = Math.Max(1, window / 2);
        await SendAsync(new AgentLineBuilder(AgentVerbs.XloadReady).Add(AgentKeys.ModuleId, upload.Id).Add(AgentKeys.Offset, upload.Consumed).Add(AgentKeys.Window, window), ct);
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
        while (upload.Consumed < upload.StreamSize)
        {
            stall.CancelAfter(_board.Options.LoadTimeout);
            ReadResult read;
            try
            {
                read = await reader.ReadAsync(stall.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                LogLoadTimeout(_logger, _board.Name, upload.Id, upload.StreamSize);
                await SendAsync(CommandHandler.LoadError(upload.Id, AgentErrorCodes.Timeout,
                    $"stream stalled at offset {upload.Consumed} of {upload.StreamSize} for {_board.Options.LoadTimeout.TotalMilliseconds:0} ms; XLOAD again resumes there"), ct);
                return;
            }
            var take = (int)Math.Min(Math.Min(upload.StreamSize - upload.Consumed, read.Buffer.Length), half - upload.Consumed % half);
            foreach (var segment in read.Buffer.Slice(0, take))
            {
                upload.Feed(segment.Span);
            }
            reader.AdvanceTo(read.Buffer.GetPosition(take));
            if (upload.Consumed % half == 0 && upload.Consumed < upload.StreamSize)
            {
                await SendAsync(new AgentLineBuilder(AgentVerbs.Xack).Add(AgentKeys.ModuleId, upload.Id).Add(AgentKeys.Offset, upload.Consumed), ct);
            }
            if (read.IsCompleted && upload.Consumed < upload.StreamSize)
            {
                throw new IOException($"link closed at offset {upload.Consumed} of {upload.StreamSize}; the upload is kept for a resumed XLOAD");
            }
        }
        _board.EndUpload(upload);
        await SendAsync(upload.Finish() is { } malformed
            ? CommandHandler.LoadError(upload.Id, AgentErrorCodes.BadPayload, $"{upload.Codec} stream: {malformed}")
            : _commands.FinishLoad(upload.Id, upload.Module, upload.Crc), ct);
    }

    /// <summary>Reads exactly <paramref name="size"/> bytes; null when the sender stalls past the load timeout.</summary>
    private async Task<byte[]?> ReceivePayloadAsync(PipeReader reader, int size, CancellationToken ct)
    {
        var payload = new byte[size];
        var received = 0;
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(ct);
        while (received < size)
        {
            stall.CancelAfter(_board.Options.LoadTimeout);
            ReadResult read;
            try
            {
                read = await reader.ReadAsync(stall.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return null;
            }
            var take = (int)Math.Min(size - received, read.Buffer.Length);
            read.Buffer.Slice(0, take).CopyTo(payload.AsSpan(received));
            received += take;
            reader.AdvanceTo(read.Buffer.GetPosition(take));
            if (read.IsCompleted && received < size)
            {
                throw new IOException($"link closed after {received} of {size} payload bytes");
            }
        }
        return payload;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Board {Board}: XLOAD {Module} interrupted at offset {Offset} of {StreamSize}; kept for a resumed XLOAD")]
    private static partial void LogUploadInterrupted(ILogger logger, string board, string module, int offset, int streamSize);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Board {Board}: LOAD {Module} ({Size} bytes) timed out waiting for payload")]
    private static partial void LogLoadTimeout(ILogger logger, string board, string module, int size);
}
