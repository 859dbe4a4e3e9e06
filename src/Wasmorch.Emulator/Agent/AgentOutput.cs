using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Wasmorch.Protocol.Agent;

namespace Wasmorch.Emulator.Agent;

/// <summary>
/// The transmit side of a link: one queue, one writer, so replies and asynchronous lines leave in
/// the order they were produced (START_OK before its RESULT) and never interleave mid-line.
/// </summary>
internal sealed partial class AgentOutput : IBoardOutput, IDisposable
{
    /// <summary>Lines waiting for a peer that does not read; past this the peer is taken as gone.</summary>
    private const int Capacity = 256;

    private readonly Channel<byte[]> _queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(Capacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ILogger _logger;
    private readonly string _board;
    private Stream? _stream;

    /// <summary>Lines queued and not yet written: a reply may skip the queue only when this is 0.</summary>
    private int _queued;

    public AgentOutput(string board, ILogger logger)
    {
        _board = board;
        _logger = logger;
    }

    /// <summary>
    /// Sends a reply of the COMM loop. With nothing queued it is written at once by the COMM loop
    /// itself (no hand-over to the pump's thread on the request/reply path); otherwise it queues
    /// behind what is waiting, so lines still leave in the order they were produced. Either way a
    /// slow peer holds the COMM loop back (back-pressure).
    /// </summary>
    public async ValueTask SendAsync(AgentLineBuilder line, CancellationToken ct)
    {
        var bytes = line.ToBytes();
        if (_stream is { } stream && Volatile.Read(ref _queued) == 0 && await _writeLock.WaitAsync(0, ct))
        {
            try
            {
                if (Volatile.Read(ref _queued) == 0)
                {
                    await stream.WriteAsync(bytes, ct);
                    await stream.FlushAsync(ct);
                    return;
                }
            }
            finally
            {
                _writeLock.Release();
            }
        }
        Interlocked.Increment(ref _queued);
        await _queue.Writer.WriteAsync(bytes, ct);
    }

    /// <summary>Queues an asynchronous line from the runner; a full queue means the peer stopped reading.</summary>
    public void TryEnqueue(AgentLineBuilder line)
    {
        Interlocked.Increment(ref _queued);
        if (!_queue.Writer.TryWrite(line.ToBytes()))
        {
            Interlocked.Decrement(ref _queued);
            LogDropped(_logger, _board, line);
        }
    }

    /// <summary>Set once the peer sent HELLO: it understands extension lines such as LOG.</summary>
    public bool ExtensionsEnabled { get; set; }

    /// <summary>Queues a line that may be dropped (LOG) while half the queue is taken, keeping room for replies.</summary>
    public bool TryEnqueueOptional(AgentLineBuilder line)
    {
        if (_queue.Reader.Count >= Capacity / 2)
        {
            return false;
        }
        Interlocked.Increment(ref _queued);
        if (_queue.Writer.TryWrite(line.ToBytes()))
        {
            return true;
        }
        Interlocked.Decrement(ref _queued);
        return false;
    }

    public void Complete() => _queue.Writer.TryComplete();

    /// <summary>Writes queued lines until the link ends; call before the COMM loop sends anything.</summary>
    public async Task PumpAsync(Stream stream, CancellationToken ct)
    {
        _stream = stream;
        await foreach (var bytes in _queue.Reader.ReadAllAsync(ct))
        {
            await _writeLock.WaitAsync(ct);
            try
            {
                await stream.WriteAsync(bytes, ct);
                if (_queue.Reader.Count == 0)
                {
                    await stream.FlushAsync(ct);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _queued);
                _writeLock.Release();
            }
        }
    }

    public void Dispose() => _writeLock.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Board {Board}: peer is not reading; dropped: {Line}")]
    private static partial void LogDropped(ILogger logger, string board, AgentLineBuilder line);
}
