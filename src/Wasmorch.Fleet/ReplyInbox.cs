using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using NATS.Client.Core;

namespace Wasmorch.Fleet;

/// <summary>
/// One subscription (<c>&lt;prefix&gt;.*</c>) for the replies to every request a gateway forwards,
/// each request with its own last token: a request may get several replies (events, "still at
/// work", the answer), and a subscription per request would cost a round trip to the server each.
/// The prefix is in the fleet's namespace (<c>wasmorch.&lt;fleet&gt;.reply.&lt;random&gt;</c>), so
/// one permission on <c>wasmorch.&lt;fleet&gt;.&gt;</c> covers a gateway's subjects.
/// </summary>
internal sealed class ReplyInbox(NatsConnection nats, string fleet, Microsoft.Extensions.Logging.ILogger logger) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<long, Channel<NatsMsg<byte[]>>> _open = new();
    private readonly SemaphoreSlim _subscribing = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private string? _prefix;
    private Task? _routing;
    private long _next;

    /// <summary>A reply subject of its own, and the replies that come to it (dispose it when done).</summary>
    public async Task<(string ReplyTo, Replies Replies)> OpenAsync(CancellationToken ct)
    {
        var prefix = _prefix ?? await SubscribeAsync(ct);
        var id = Interlocked.Increment(ref _next);
        var replies = Channel.CreateUnbounded<NatsMsg<byte[]>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        _open[id] = replies;
        return ($"{prefix}.{id.ToString(CultureInfo.InvariantCulture)}", new Replies(replies.Reader, () => _open.TryRemove(id, out _)));
    }

    private async Task<string> SubscribeAsync(CancellationToken ct)
    {
        await _subscribing.WaitAsync(ct);
        try
        {
            if (_prefix is null)
            {
                var prefix = $"wasmorch.{fleet}.reply.{Guid.NewGuid():N}";
                // Not the caller's token: NATS.Net ends a subscription when the token it was made with ends.
                var subscription = await nats.SubscribeCoreAsync($"{prefix}.*", serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: _stop.Token);
                _routing = RouteSupervisedAsync(subscription, _stop.Token);
                _prefix = prefix;
            }
            return _prefix;
        }
        finally
        {
            _subscribing.Release();
        }
    }

    /// <summary>Routes replies until <paramref name="ct"/> ends, supervised; the subscription outlives the loop's restarts.</summary>
    private async Task RouteSupervisedAsync(INatsSub<byte[]> subscription, CancellationToken ct)
    {
        try
        {
            await Gateway.Supervision.LoopSupervisor.RunAsync("fleet: reply routing", c => RouteAsync(subscription, c), logger, ct);
        }
        finally
        {
            await subscription.DisposeAsync();
        }
    }

    private async Task RouteAsync(INatsSub<byte[]> subscription, CancellationToken ct)
    {
        await foreach (var message in subscription.Msgs.ReadAllAsync(ct))
        {
            var token = message.Subject.AsSpan(message.Subject.LastIndexOf('.') + 1);
            if (long.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && _open.TryGetValue(id, out var replies))
            {
                replies.Writer.TryWrite(message);
            }
            // A reply to a request given up on already is dropped.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_routing is not null)
        {
            await _routing;
        }
        _stop.Dispose();
        _subscribing.Dispose();
    }

    /// <summary>The replies to one request.</summary>
    internal sealed class Replies(ChannelReader<NatsMsg<byte[]>> reader, Action close) : IDisposable
    {
        /// <summary>The next reply, or null when none came within <paramref name="within"/>.</summary>
        public async Task<NatsMsg<byte[]>?> NextAsync(TimeSpan within, CancellationToken ct)
        {
            if (reader.TryRead(out var ready))
            {
                return ready;
            }
            if (within <= TimeSpan.Zero)
            {
                return null;
            }
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
            wait.CancelAfter(within);
            try
            {
                return await reader.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return null;
            }
        }

        public void Dispose() => close();
    }
}
