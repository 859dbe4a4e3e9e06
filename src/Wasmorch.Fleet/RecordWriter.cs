using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Wasmorch.Fleet;

/// <summary>
/// Writes a gateway's job records to the fleet's stream in order, each acknowledged by JetStream
/// and tried again while the stream cannot take it (a cluster electing a leader, NATS away for a
/// moment). The device session that tells of a job never waits: records queue here, and what
/// does not fit, or is still refused after <c>giveUpAfter</c> ([fleet] record_give_up_ms), is
/// dropped and logged (the gateway's own state file has every job). The writing loop is supervised:
/// an exception it did not name is logged and the loop started again with the next record.
/// </summary>
internal sealed partial class RecordWriter : IAsyncDisposable
{
    /// <summary>Records waiting to be written at most.</summary>
    public const int Queued = 10_000;

    private readonly INatsJSContext _js;
    private readonly ILogger _logger;
    private readonly Channel<(string Subject, byte[] Data)> _queue =
        Channel.CreateBounded<(string, byte[])>(new BoundedChannelOptions(Queued) { SingleReader = true, FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _writing;

    private readonly TimeSpan _giveUpAfter;

    public RecordWriter(INatsJSContext js, TimeSpan giveUpAfter, ILogger logger)
    {
        _js = js;
        _giveUpAfter = giveUpAfter;
        _logger = logger;
        _writing = Gateway.Supervision.LoopSupervisor.RunAsync("fleet: job record writer", WriteAsync, logger, _stop.Token);
    }

    public void Add(string subject, byte[] data)
    {
        if (!_queue.Writer.TryWrite((subject, data)))
        {
            LogDropped(_logger, subject, $"{Queued} records already wait to be written");
        }
    }

    private async Task WriteAsync(CancellationToken ct)
    {
        await foreach (var (subject, data) in _queue.Reader.ReadAllAsync(ct))
        {
            await WriteOneAsync(subject, data, ct);
        }
    }

    private async Task WriteOneAsync(string subject, byte[] data, CancellationToken ct)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var pause = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                var ack = await _js.PublishAsync(subject, data, serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: ct);
                ack.EnsureSuccess();
                return;
            }
            catch (NatsException ex)
            {
                if (clock.Elapsed > _giveUpAfter)
                {
                    LogDropped(_logger, subject, ex.Message);
                    return;
                }
                await Task.Delay(pause, ct);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stop.CancelAsync();
        await _writing;
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: a job record on {Subject} was not written to the fleet ({Reason}); this gateway's state file has it")]
    private static partial void LogDropped(ILogger logger, string subject, string reason);
}
