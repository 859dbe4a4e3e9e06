using System.Text;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Net;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Fleet;

/// <summary>
/// What gateways tell each other (docs/fleet.md): LOG lines, module events, changes (live) and job
/// records (kept by the streams), each published on the gateway's own subject and signed by it for
/// that subject; what another gateway shows is only what the gateway of its subject signed.
/// </summary>
public sealed partial class NatsFleet
{
    private string LogSubject(string gateway) => $"wasmorch.{_fleet}.logs.{gateway}";

    public void PublishLog(LogEntry entry)
    {
        if (_devices is null)
        {
            return;
        }
        var line = HostJson.Serialize(new HostResponse { Ok = true, Event = "log", Log = entry, Device = entry.Device });
        _ = PublishBestEffortAsync(LogSubject(GatewayName), line);
    }

    private async Task PublishBestEffortAsync(string subject, byte[] data)
    {
        try
        {
            await _nats.PublishAsync(subject, _trust.Seal(subject, data), serializer: Raw, cancellationToken: _stop.Token);
        }
        catch (Exception ex) when (ex is NatsException or OperationCanceledException)
        {
            // Log lines are best effort, like LOG itself: the device's own gateway still keeps and serves them.
        }
    }

    public IAsyncEnumerable<LogEntry> FollowLogsAsync(CancellationToken ct) =>
        FollowOthersAsync("logs", response => response.Log, ct);

    private string PublishedSubject(string gateway) => $"wasmorch.{_fleet}.published.{gateway}";

    public void PublishEvent(ModuleEvent entry)
    {
        if (_devices is null)
        {
            return;
        }
        // Live only, like the EVENT line itself: the device's own gateway keeps the recent ones.
        _ = PublishBestEffortAsync(PublishedSubject(GatewayName), HostJson.Serialize(new HostResponse { Ok = true, Event = "published", Published = entry, Device = entry.Device }));
    }

    public IAsyncEnumerable<ModuleEvent> FollowEventsAsync(CancellationToken ct) =>
        FollowOthersAsync("published", response => response.Published, ct);

    private string ChangeSubject(string gateway) => $"wasmorch.{_fleet}.changes.{gateway}";

    public void PublishChange(HostResponse change)
    {
        if (_devices is null)
        {
            return;
        }
        // Live only, like a dashboard's view of it: nothing keeps changes (jobs and logs have their own streams).
        _ = PublishBestEffortAsync(ChangeSubject(GatewayName), HostJson.Serialize(change));
    }

    public IAsyncEnumerable<HostResponse> FollowChangesAsync(CancellationToken ct) =>
        FollowOthersAsync("changes", response => response.Event is null ? null : response, ct);

    /// <summary>What the other gateways publish on <c>wasmorch.&lt;fleet&gt;.&lt;kind&gt;.&lt;gateway&gt;</c> from now on, as <paramref name="pick"/> takes it.</summary>
    private async IAsyncEnumerable<T> FollowOthersAsync<T>(string kind, Func<HostResponse, T?> pick, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
        where T : class
    {
        var items = System.Threading.Channels.Channel.CreateBounded<T>(new System.Threading.Channels.BoundedChannelOptions(1000)
        {
            FullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest,
        });
        var subscribing = SubscribeOthersAsync(kind, pick, items.Writer, ct);
        await foreach (var item in items.Reader.ReadAllAsync(ct))
        {
            yield return item;
        }
        await subscribing;
    }

    private async Task SubscribeOthersAsync<T>(string kind, Func<HostResponse, T?> pick, System.Threading.Channels.ChannelWriter<T> into, CancellationToken ct)
        where T : class
    {
        var own = $"wasmorch.{_fleet}.{kind}.{GatewayName}";
        try
        {
            await foreach (var message in _nats.SubscribeAsync($"wasmorch.{_fleet}.{kind}.>", serializer: Raw, cancellationToken: ct))
            {
                if (message.Subject != own && OpenRecord(message.Subject, message.Data) is { } data
                    && HostJson.TryParseResponse(data, out var response, out _) && pick(response!) is { } item)
                {
                    into.TryWrite(item);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (NatsException ex)
        {
            // The follower still gets this gateway's own.
            FollowFailed(_logger, kind, ex.Message);
        }
        finally
        {
            into.TryComplete();
        }
    }

    /// <summary>
    /// The payload of a record (job, log line, change, event) another gateway published on
    /// <c>wasmorch.&lt;fleet&gt;.&lt;kind&gt;.&lt;gateway&gt;[…]</c>, if that gateway signed it for that
    /// subject; null (logged) otherwise. Records are read long after they were written: no time window.
    /// </summary>
    private byte[]? OpenRecord(string subject, byte[]? data)
    {
        var tokens = subject.Split('.');
        try
        {
            return tokens.Length >= 4 && IsValidName(tokens[3])
                ? _trust.Open(subject, data ?? [], FleetSigners.Gateways, tokens[3], fresh: false).Payload
                : throw new FleetTrustException("not on a gateway's subject");
        }
        catch (FleetTrustException ex)
        {
            LogRefused(_logger, subject, ex.Message);
            return null;
        }
    }

    public async Task<List<LogEntry>?> RecentLogsAsync(int count, CancellationToken ct)
    {
        var entries = new List<LogEntry>();
        var read = await ReadStreamAsync(_events, $"wasmorch.{_fleet}.logs.>", (ulong)count, (subject, stored) =>
        {
            if (OpenRecord(subject, stored) is { } data && HostJson.TryParseResponse(data, out var response, out _) && response!.Log is { } entry)
            {
                entry.Gateway = subject.Split('.')[3];
                entries.Add(entry);
            }
        }, ct);
        return read ? entries : null;
    }

    /// <summary>
    /// The subject of a job record: by gateway and device, so one device's history can be read
    /// alone. Device names may hold '.', which splits subject tokens, so the device goes in hex.
    /// </summary>
    private string JobSubject(string gateway, string? device) =>
        $"wasmorch.{_fleet}.jobs.{gateway}.{(device is null ? "*" : Convert.ToHexStringLower(Encoding.UTF8.GetBytes(device)))}";

    public void PublishJob(JobRecord job)
    {
        if (_devices is null)
        {
            return;
        }
        var subject = JobSubject(GatewayName, job.Device);
        _records?.Add(subject, _trust.Seal(subject, HostJson.Serialize(new HostResponse { Ok = true, Jobs = [job] })));
    }

    public async Task<List<JobRecord>?> RecentJobsAsync(string? device, int limit, CancellationToken ct)
    {
        // A job is recorded when it starts and again when it ends: the newest record of each counts.
        var jobs = new Dictionary<(string?, string, long, string), JobRecord>();
        var read = await ReadStreamAsync(_jobs, device is null ? $"wasmorch.{_fleet}.jobs.>" : JobSubject("*", device),
            device is null ? 3 * (ulong)limit + 64 : 0, (subject, stored) =>
            {
                if (OpenRecord(subject, stored) is { } data && HostJson.TryParseResponse(data, out var response, out _) && response!.Jobs is [var job])
                {
                    // The gateway is the one that signed the record, whatever the record says.
                    job.Gateway = subject.Split('.')[3];
                    jobs[(job.Gateway, job.Device, job.Job, job.StartedAt)] = job;
                }
            }, ct);
        return read ? [.. jobs.Values.OrderByDescending(j => j.StartedAt, StringComparer.Ordinal).Take(limit)] : null;
    }

    /// <summary>
    /// Hands <paramref name="each"/> the messages of <paramref name="stream"/> on
    /// <paramref name="filter"/>, oldest first: the last <paramref name="window"/> of the stream
    /// (0: all of it). False when the stream is out of reach.
    /// </summary>
    private async Task<bool> ReadStreamAsync(INatsJSStream? stream, string filter, ulong window, Action<string, byte[]> each, CancellationToken ct)
    {
        if (stream is null)
        {
            return false;
        }
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(_timings.RecordReadLimit);
        try
        {
            return await ReadStreamWithinAsync(stream, filter, window, each, bounded.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            LogEventsFailed(_logger, stream.Info.Config.Name ?? "?", $"no answer within {_timings.RecordReadLimit.TotalSeconds:0.#} s");
            return false;
        }
    }

    private async Task<bool> ReadStreamWithinAsync(INatsJSStream stream, string filter, ulong window, Action<string, byte[]> each, CancellationToken ct)
    {
        var js = _nats.CreateJetStreamContext();
        var name = stream.Info.Config.Name!;
        INatsJSConsumer? consumer = null;
        try
        {
            await stream.RefreshAsync(ct);
            var state = stream.Info.State;
            if (state.Messages == 0)
            {
                return true;
            }
            var first = window == 0 ? state.FirstSeq : Math.Max(state.FirstSeq, state.LastSeq >= window ? state.LastSeq - window + 1 : 1);
            // One filter subject, not filter_subjects: nats-server 2.9 knows only the former and
            // silently ignores the latter (NATS.Net's ordered consumer sends the latter), which
            // handed every gateway's records to `jobs --device X` (issue 31).
            var config = new ConsumerConfig
            {
                Name = $"read-{Guid.NewGuid():n}",
                FilterSubject = filter,
                DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence,
                OptStartSeq = first,
                AckPolicy = ConsumerConfigAckPolicy.None,
                // Gone by itself should this gateway die before deleting it.
                InactiveThreshold = TimeSpan.FromSeconds(30),
                MemStorage = true,
                NumReplicas = 1,
            };
            consumer = await AgainIfUnansweredAsync(() => js.CreateOrUpdateConsumerAsync(name, config, ct).AsTask());
            while (true)
            {
                var fetched = 0;
                await foreach (var message in consumer.FetchNoWaitAsync(new NatsJSFetchOpts { MaxMsgs = 1000 }, serializer: Raw, cancellationToken: ct))
                {
                    fetched++;
                    // And checked here: what a server hands out beyond the filter is not this read's.
                    if (SubjectMatches(filter, message.Subject))
                    {
                        each(message.Subject, message.Data ?? []);
                    }
                    if (message.Metadata is { NumPending: 0 })
                    {
                        return true;
                    }
                }
                if (fetched == 0)
                {
                    return true;
                }
            }
        }
        catch (Exception ex) when (ex is NatsException or NatsJSException)
        {
            LogEventsFailed(_logger, name, ex.Message);
            return false;
        }
        finally
        {
            if (consumer is not null)
            {
                await DeleteReaderAsync(js, name, consumer.Info.Name);
            }
        }
    }

    /// <summary>Deletes a consumer <see cref="ReadStreamWithinAsync"/> made; one left behind goes after its inactive threshold.</summary>
    private async Task DeleteReaderAsync(INatsJSContext js, string stream, string consumer)
    {
        try
        {
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await js.DeleteConsumerAsync(stream, consumer, bounded.Token);
        }
        catch (Exception ex) when (ex is NatsException or NatsJSException or OperationCanceledException)
        {
            LogReaderLeft(_logger, stream, consumer, ex.Message);
        }
    }

    /// <summary>True when <paramref name="subject"/> is one <paramref name="filter"/> names (NATS wildcards: '*' one token, '>' the rest).</summary>
    internal static bool SubjectMatches(string filter, string subject)
    {
        var f = filter.Split('.');
        var s = subject.Split('.');
        for (var i = 0; i < f.Length; i++)
        {
            if (f[i] == ">")
            {
                return s.Length > i;
            }
            if (i >= s.Length || (f[i] != "*" && f[i] != s[i]))
            {
                return false;
            }
        }
        return f.Length == s.Length;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: could not delete the reader {Consumer} of stream {Stream} ({Reason}); the server drops it after 30 s unused")]
    private static partial void LogReaderLeft(ILogger logger, string stream, string consumer, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: refused a message on {Subject}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string subject, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: cannot read the fleet's stream {Stream} ({Reason}); this gateway's own record is shown")]
    private static partial void LogEventsFailed(ILogger logger, string stream, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: cannot follow the other gateways' {Kind}: {Reason}")]
    private static partial void FollowFailed(ILogger logger, string kind, string reason);
}
