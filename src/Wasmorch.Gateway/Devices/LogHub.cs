using System.Globalization;
using System.Threading.Channels;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Devices;

/// <summary>
/// Collects modules' LOG lines from every device: the last entries for <c>logs</c>, and live
/// subscriptions for <c>logs --follow</c>. Bounded everywhere: a slow follower loses its oldest
/// entries, never the gateway's memory.
/// </summary>
public sealed class LogHub
{
    public const int Kept = 1000;
    private const int SubscriberBuffer = 1000;

    private readonly Queue<LogEntry> _recent = new();
    private readonly List<Channel<LogEntry>> _subscribers = [];
    private readonly TimeProvider _time;

    public LogHub(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>Raised with each entry after it is kept and handed to the followers (a fleet publishes it).</summary>
    public event Action<LogEntry>? Added;

    public void Add(string device, AgentLine line)
    {
        var entry = new LogEntry
        {
            Time = _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
            Device = device,
            ModuleId = line[AgentKeys.ModuleId],
            Job = line.TryGetInt64(AgentKeys.Job, out var job) ? job : null,
            UptimeMs = line.TryGetInt64(AgentKeys.UptimeMs, out var uptime) ? uptime : null,
            Message = line[AgentKeys.Msg] ?? string.Empty,
        };
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

    public List<LogEntry> Recent(string? device)
    {
        lock (_recent)
        {
            return [.. _recent.Where(e => device is null || e.Device == device)];
        }
    }

    /// <summary>Entries from now on, until <paramref name="ct"/> ends the subscription.</summary>
    public async IAsyncEnumerable<LogEntry> FollowAsync(string? device, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var channel = Channel.CreateBounded<LogEntry>(new BoundedChannelOptions(SubscriberBuffer) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (_recent)
        {
            _subscribers.Add(channel);
        }
        try
        {
            await foreach (var entry in channel.Reader.ReadAllAsync(ct).WithCancellation(ct))
            {
                if (device is null || entry.Device == device)
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
