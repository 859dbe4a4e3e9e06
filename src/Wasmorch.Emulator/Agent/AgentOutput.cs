using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Wasmorch.Protocol.Agent;

namespace Wasmorch.Emulator.Agent;

/// <summary>
/// The transmit side of a link: one queue, one writer, so replies and asynchronous lines leave in
/// the order they were produced (START_OK before its RESULT) and never interleave mid-line.
/// </summary>
internal sealed partial class AgentOutput
{
    /// <summary>Lines waiting for a peer that does not read; past this the peer is taken as gone.</summary>
    private const int Capacity = 256;

    private readonly Channel<byte[]> _queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(Capacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly ILogger _logger;
    private readonly string _board;

    public AgentOutput(string board, ILogger logger)
    {
        _board = board;
        _logger = logger;
    }

    /// <summary>Queues a reply, waiting while the peer is slow to read (back-pressure on the COMM loop).</summary>
    public ValueTask SendAsync(AgentLineBuilder line, CancellationToken ct) => _queue.Writer.WriteAsync(line.ToBytes(), ct);

    /// <summary>Queues an asynchronous line from the runner; a full queue means the peer stopped reading.</summary>
    public void TryEnqueue(AgentLineBuilder line)
    {
        if (!_queue.Writer.TryWrite(line.ToBytes()))
        {
            LogDropped(_logger, _board, line);
        }
    }

    /// <summary>Set once the peer sent HELLO: it understands extension lines such as LOG.</summary>
    public bool ExtensionsEnabled { get; set; }

    /// <summary>Queues a line that may be dropped (LOG) while half the queue is taken, keeping room for replies.</summary>
    public bool TryEnqueueOptional(AgentLineBuilder line) =>
        _queue.Reader.Count < Capacity / 2 && _queue.Writer.TryWrite(line.ToBytes());

    public void Complete() => _queue.Writer.TryComplete();

    public async Task PumpAsync(Stream stream, CancellationToken ct)
    {
        await foreach (var bytes in _queue.Reader.ReadAllAsync(ct))
        {
            await stream.WriteAsync(bytes, ct);
            if (_queue.Reader.Count == 0)
            {
                await stream.FlushAsync(ct);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Board {Board}: peer is not reading; dropped: {Line}")]
    private static partial void LogDropped(ILogger logger, string board, AgentLineBuilder line);
}
