using System.Threading.Channels;

namespace Wasmorch.Gateway.Devices;

/// <summary>
/// What devices report as it comes (modules' logs, their events): the last entries, and live
/// subscriptions for <c>--follow</c>. Bounded everywhere: a slow follower loses its oldest
/// entries, never the gateway's memory.
/// </summary>
public abstract class EntryHub<TEntry>
    where TEntry : class
{
    public const int Kept = 1000;
    private const int SubscriberBuffer = 1000;

    private readonly Queue<TEntry> _recent = new();
    private readonly List<Channel<TEntry>> _subscribers = [];

    protected EntryHub(TimeProvider? time) => Time = time ?? TimeProvider.System;

    protected TimeProvider Time { get; }

    /// <summary>Raised with each entry after it is kept and handed to the followers (a fleet publishes it).</summary>
    public event Action<TEntry>? Added;

    protected void Keep(TEntry entry)
    {
        lock (_recent)
        {
            _recent.Enqueue(entry);
            while (_recent.Count > Kept)
            {
                _recent.Dequeue();
            }
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(entry);
            }
        }
        Added?.Invoke(entry);
    }

    protected List<TEntry> Recent(Func<TEntry, bool> wanted)
    {
        lock (_recent)
        {
            return [.. _recent.Where(wanted)];
        }
    }

    /// <summary>Entries from now on, until <paramref name="ct"/> ends the subscription.</summary>
    protected async IAsyncEnumerable<TEntry> FollowAsync(Func<TEntry, bool> wanted, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var channel = Channel.CreateBounded<TEntry>(new BoundedChannelOptions(SubscriberBuffer) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (_recent)
        {
            _subscribers.Add(channel);
        }
        try
        {
            await foreach (var entry in channel.Reader.ReadAllAsync(ct).WithCancellation(ct))
            {
                if (wanted(entry))
                {
                    yield return entry;
                }
            }
        }
        finally
        {
            lock (_recent)
            {
                _subscribers.Remove(channel);
            }
        }
    }
}
