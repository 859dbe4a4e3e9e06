using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using NATS.Client.ObjectStore;
using NATS.Net;
using Wasmorch.Gateway.Build;
using Wasmorch.Gateway;
using Wasmorch.Gateway.Fleet;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Fleet;

/// <summary>
/// A gateway's place in a fleet, on NATS (docs/fleet.md): device ownership in the JetStream
/// key-value bucket <c>wasmorch_&lt;fleet&gt;_devices</c> (device name -> gateway name, claimed with
/// create-if-absent, so no gateway takes a device over), and the host API of every gateway on the
/// subject <c>wasmorch.&lt;fleet&gt;.gateway.&lt;name&gt;.api</c> (request/reply, the host API's JSON),
/// and every artifact a gateway builds in the object store <c>wasmorch_&lt;fleet&gt;_artifacts</c>
/// under its cache key, so the others fetch it instead of compiling it again.
/// </summary>
public sealed partial class NatsFleet : IFleet, ISharedArtifacts
{
    private static readonly NatsRawSerializer<byte[]> Raw = NatsRawSerializer<byte[]>.Default;

    private readonly NatsConnection _nats;
    private readonly string _fleet;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private INatsKVStore? _devices;

    /// <summary>The fleet's desired state and rollout coordinator; null until joined.</summary>
    private FleetStateBucket? _state;
    private INatsObjStore? _artifacts;
    private readonly int _replicas;
    private INatsJSStream? _events;

    /// <summary>LOG lines the fleet keeps (all gateways together).</summary>
    public const long EventsKept = 10_000;

    private string EventsStream => $"wasmorch_{_fleet}_events";

    /// <summary>Job records the fleet keeps (a job's start and its end are two, so at least half as many jobs).</summary>
    public const long JobRecordsKept = 20_000;

    private string JobsStream => $"wasmorch_{_fleet}_jobs";

    private INatsJSStream? _jobs;

    /// <summary>Writes job records to <see cref="_jobs"/>, acknowledged and in order; null until joined.</summary>
    private RecordWriter? _records;

    /// <summary>Device → gateway as the bucket says, kept current by a watch: a request needs no lookup round trip.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Claim> _owners = new(StringComparer.Ordinal);

    /// <summary>Where the replies to this gateway's forwarded requests come in.</summary>
    private readonly ReplyInbox _inbox;
    private Task? _watching;

    /// <summary>True once the watch has delivered every claim in the bucket (and while it goes on): <see cref="_owners"/> is the whole fleet.</summary>
    private volatile bool _ownersComplete;
    private Task? _serving;

    /// <param name="url">nats://[user:password@]host:port</param>
    /// <param name="security">Credentials and TLS beyond the URL's (null: none).</param>
    /// <param name="replicas">Copies JetStream keeps of the fleet's buckets: 1 for one server, 3 for a 3-node cluster.</param>
    /// <param name="trust">This gateway's key and the fleet's trusted keys (null: unsigned, only with <see cref="FleetSecurity.InsecureDev"/>).</param>
    public NatsFleet(string url, string gatewayName, string fleet, ILogger logger, FleetSecurity? security = null, int replicas = 1, FleetTrust? trust = null)
    {
        _replicas = replicas;
        _trust = trust ?? FleetTrust.WithoutKeys;
        _security = security ?? new FleetSecurity();
        _insecureDev = _security.InsecureDev;
        if (!IsValidName(gatewayName))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"fleet gateway name '{gatewayName}' must be 1 to 64 of A-Z a-z 0-9 _ -");
        }
        if (!IsValidName(fleet))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"fleet name '{fleet}' must be 1 to 64 of A-Z a-z 0-9 _ -");
        }
        RequireServerUrls(url);
        GatewayName = gatewayName;
        _fleet = fleet;
        _logger = logger;
        Url = Redacted(url);
        var opts = NatsOpts.Default with { Url = url, Name = $"wasmorch-gateway-{gatewayName}" };
        if (security?.CredsFile is { } creds)
        {
            opts = opts with { AuthOpts = NatsAuthOpts.Default with { CredsFile = creds } };
        }
        if (security is { TlsCa: not null } or { TlsCert: not null })
        {
            opts = opts with { TlsOpts = NatsTlsOpts.Default with { CaFile = security.TlsCa, CertFile = security.TlsCert, KeyFile = security.TlsKey, Mode = TlsMode.Require } };
        }
        _nats = new NatsConnection(opts);
        _inbox = new ReplyInbox(_nats, fleet);
    }

    public string GatewayName { get; }

    /// <summary>Signs what this gateway sends and checks what it acts on (docs/security.md).</summary>
    private readonly FleetTrust _trust;

    private readonly FleetSecurity _security;

    /// <summary>The development flag: a NATS server that lets anyone in, and no keys, are accepted (and said loudly).</summary>
    private readonly bool _insecureDev;

    /// <summary>True for a name safe as one NATS subject token and a bucket name part: no '.', '*', '>' or space.</summary>
    public static bool IsValidName(string? name) => Wasmorch.Gateway.Fleet.FleetNames.IsValid(name);

    /// <summary>The NATS server of the fleet, without the password a URL may carry.</summary>
    public string Url { get; }

    /// <summary><paramref name="url"/> with the password of its user info replaced, for logs and messages.</summary>
    public static string Redacted(string url) => string.Join(',', url.Split(',').Select(one =>
        Uri.TryCreate(one, UriKind.Absolute, out var uri) && uri.UserInfo.Contains(':', StringComparison.Ordinal)
            ? one.Replace(uri.UserInfo, uri.UserInfo[..uri.UserInfo.IndexOf(':', StringComparison.Ordinal)] + ":***", StringComparison.Ordinal)
            : one));

    /// <summary>
    /// Checks a fleet's server list (one URL, or several comma-separated for a cluster): each
    /// nats:// or tls:// (or ws://, wss://) with a host. A typo would otherwise only show as a
    /// server that never answers.
    /// </summary>
    public static void RequireServerUrls(string urls)
    {
        foreach (var one in urls.Split(','))
        {
            if (!Uri.TryCreate(one.Trim(), UriKind.Absolute, out var uri) || uri.Scheme is not ("nats" or "tls" or "ws" or "wss") || uri.Host.Length == 0)
            {
                throw new GatewayException(HostErrorCodes.BadRequest,
                    $"fleet NATS server '{Redacted(one)}' is not a nats://host:port URL (nats://, tls://, ws:// or wss://; several are comma-separated)");
            }
        }
    }

    /// <summary>How long a forwarded request may take beyond its own deadline (a build, an upload).</summary>
    public static TimeSpan ForwardMargin { get; } = TimeSpan.FromMinutes(2);

    private string ApiSubject(string gateway) => $"wasmorch.{_fleet}.gateway.{gateway}.api";

    /// <summary>How often a gateway that could not reach NATS at start tries again.</summary>
    public static TimeSpan RejoinInterval { get; set; } = TimeSpan.FromSeconds(1);

    public async Task JoinAsync(IReadOnlyCollection<string> devices, Func<string, IReadOnlyDictionary<string, string>?> labelsOf, ServeForwarded serve, CancellationToken ct)
    {
        _labelsOf = labelsOf;
        try
        {
            await JoinOnceAsync(devices, serve, ct);
        }
        catch (FleetUnreachableException ex)
        {
            // The gateway's own devices do not need the fleet: serve them, and join when NATS is back.
            LogUnreachable(_logger, _fleet, Url, ex.Message);
            _joining = RejoinAsync(devices, serve, _stop.Token);
        }
    }

    private Task? _joining;

    private async Task RejoinAsync(IReadOnlyCollection<string> devices, ServeForwarded serve, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(RejoinInterval, ct);
                await JoinOnceAsync(devices, serve, ct);
                return;
            }
            catch (FleetUnreachableException)
            {
                // Still away; the next round tries again.
            }
            catch (GatewayException ex)
            {
                // A claim another gateway made meanwhile: nothing is taken over, this gateway stays on its own.
                LogJoinRefused(_logger, _fleet, ex.Message);
                return;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
        }
    }

    private async Task JoinOnceAsync(IReadOnlyCollection<string> devices, ServeForwarded serve, CancellationToken ct)
    {
        INatsKVStore store;
        if (_trust.IsUnsigned && !_insecureDev)
        {
            throw new GatewayException(HostErrorCodes.BadRequest,
                $"joining fleet '{_fleet}' needs this gateway's fleet key and the fleet's trusted keys ([fleet] key_file, trusted_gateways; `wasmorch fleet init` writes them), see docs/fleet.md");
        }
        try
        {
            await _nats.ConnectAsync();
            RequireAuthenticatedServer();
            store = await _nats.CreateKeyValueStoreContext().CreateOrUpdateStoreAsync(new NatsKVConfig($"wasmorch_{_fleet}_devices") { NumberOfReplicas = _replicas }, ct);
            _state = new FleetStateBucket(await _nats.CreateKeyValueStoreContext().CreateOrUpdateStoreAsync(
                new NatsKVConfig(FleetStateBucket.Name(_fleet)) { NumberOfReplicas = _replicas }, ct), _fleet, _trust, _logger);
            _artifacts = await _nats.CreateObjectStoreContext().CreateObjectStoreAsync(new NatsObjConfig($"wasmorch_{_fleet}_artifacts") { NumberOfReplicas = _replicas }, ct);
            // What gateways publish on logs subjects, kept by the server: it outlives any one gateway.
            _events = await _nats.CreateJetStreamContext().CreateOrUpdateStreamAsync(
                new StreamConfig(EventsStream, [$"wasmorch.{_fleet}.logs.>"]) { MaxMsgs = EventsKept, NumReplicas = _replicas }, ct);
            _jobs = await _nats.CreateJetStreamContext().CreateOrUpdateStreamAsync(
                new StreamConfig(JobsStream, [$"wasmorch.{_fleet}.jobs.>"]) { MaxMsgs = JobRecordsKept, NumReplicas = _replicas }, ct);
        }
        catch (NATS.Client.JetStream.NatsJSApiException ex)
        {
            // The server answered and said no (replicas beyond its cluster, say): waiting will not help.
            throw new GatewayException(HostErrorCodes.BadRequest, $"NATS at {Url} refused the buckets of fleet '{_fleet}': {ex.Error.Description} (code {ex.Error.Code})");
        }
        catch (Exception ex) when (ex is NatsException or NatsKVException or NATS.Client.JetStream.NatsJSException)
        {
            if (Refused(ex))
            {
                // Wrong credentials do not get better by waiting: fail closed, and say which.
                throw new GatewayException(HostErrorCodes.Unauthorized,
                    $"NATS at {Url} refused this gateway's credentials ({Innermost(ex).Message.Trim()}); check the user:password of the URL or [fleet] creds");
            }
            throw new FleetUnreachableException(ex.Message);
        }
        await ClaimAllAsync(store, devices, ct);
        _ownDevices = [.. devices];
        _renewing = RenewClaimsAsync(store, _stop.Token);
        // Subscribed before the store is published: a request forwarded the moment after finds it listening.
        var subscription = await _nats.SubscribeCoreAsync(ApiSubject(GatewayName), serializer: Raw, cancellationToken: ct);
        _serving = ServeAsync(subscription, serve, _stop.Token);
        _records = new RecordWriter(_nats.CreateJetStreamContext(), _logger);
        _devices = store;
        _watching = WatchOwnersAsync(store, _stop.Token);
        LogJoined(_logger, GatewayName, _fleet, Url, devices.Count);
    }

    private sealed class FleetUnreachableException(string message) : Exception(message);

    /// <summary>
    /// Refuses a NATS server that let this gateway in without credentials: whoever reaches it could
    /// publish on the fleet's subjects and write its buckets. The development flag lets it pass, loudly.
    /// </summary>
    private void RequireAuthenticatedServer()
    {
        if (_nats.ServerInfo is { AuthRequired: true } or { TlsVerify: true })
        {
            return;
        }
        if (!_insecureDev)
        {
            throw new GatewayException(HostErrorCodes.Unauthorized,
                $"NATS at {Url} let this gateway in without credentials: anyone who reaches it would control fleet '{_fleet}'. " +
                "Run it with the accounts, users and permissions of docs/fleet.md (`wasmorch fleet init` writes them), " +
                "or, for development only, [fleet] insecure_dev = true / --fleet-insecure");
        }
        LogInsecure(_logger, Url, _fleet);
    }

    private static Exception Innermost(Exception ex) => ex.InnerException is { } inner ? Innermost(inner) : ex;

    private static bool Refused(Exception ex) =>
        Innermost(ex).Message.Contains("authorization", StringComparison.OrdinalIgnoreCase) || ex.Message.Contains("authorization", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Opens the fleet without joining it: no device claimed, no request served. For a client (the
    /// CLI with <c>--gateway nats://…</c>) that only looks up owners and forwards to them.
    /// </summary>
    public async Task ObserveAsync(CancellationToken ct)
    {
        try
        {
            await _nats.ConnectAsync();
            _devices = await _nats.CreateKeyValueStoreContext().GetStoreAsync($"wasmorch_{_fleet}_devices", ct);
        }
        catch (NatsKVException ex)
        {
            throw new GatewayException(HostErrorCodes.DeviceUnreachable, $"fleet '{_fleet}' at {Url} has no gateway yet ({ex.Message})");
        }
        catch (Exception ex) when (ex is NatsException or NATS.Client.JetStream.NatsJSException)
        {
            throw new GatewayException(HostErrorCodes.DeviceUnreachable, $"cannot reach fleet '{_fleet}' at {Url}: {ex.Message}");
        }
    }

    private FleetStateBucket State => _state
        ?? throw new GatewayException(HostErrorCodes.DeviceUnreachable, $"this gateway has not joined fleet '{_fleet}' yet (NATS at {Url} is out of reach)");

    public Task PutDesiredAsync(byte[] document, CancellationToken ct) => State.PutDesiredAsync(document, ct);

    public IAsyncEnumerable<(byte[] Document, bool Current)> WatchDesiredAsync(CancellationToken ct) => State.WatchDesiredAsync(ct);

    public Task<string?> RolloutCoordinatorAsync(CancellationToken ct) => State.RolloutCoordinatorAsync(ct);

    public Task<bool> TakeRolloutsAsync(string? current, CancellationToken ct) => State.TakeRolloutsAsync(GatewayName, current, ct);

    public async Task<string?> OwnerOfAsync(string device, CancellationToken ct)
    {
        if (_owners.TryGetValue(device, out var known))
        {
            return known.Gateway;
        }
        if (_devices is null)
        {
            return null;
        }
        try
        {
            return (await ReadClaimOfAsync(_devices, device, ct))?.Gateway;
        }
        catch (NatsException ex)
        {
            throw new GatewayException(HostErrorCodes.DeviceUnreachable, $"cannot look up which gateway owns '{device}' in fleet '{_fleet}': {ex.Message}");
        }
    }

    /// <summary>
    /// Gives up the claim on <paramref name="device"/> so that another gateway may take it (a board
    /// moved to another machine). Refused while its owner answers, unless <paramref name="force"/>:
    /// a running gateway would go on driving the board.
    /// </summary>
    public async Task<string> ReleaseAsync(string device, bool force, CancellationToken ct)
    {
        var owner = await OwnerOfAsync(device, ct)
            ?? throw new GatewayException(HostErrorCodes.UnknownDevice, $"no gateway of fleet '{_fleet}' owns a device '{device}'");
        if (!force)
        {
            try
            {
                await ForwardAsync(owner, new HostRequest { Op = HostOps.Devices, TimeoutMs = 5_000 }, null, ct);
                throw new GatewayException(HostErrorCodes.DeviceClaimed,
                    $"gateway '{owner}' is running and owns '{device}': remove the device from it first (or --force, and stop '{owner}' from driving it yourself)");
            }
            catch (GatewayException ex) when (ex.Code == HostErrorCodes.DeviceUnreachable)
            {
                // Its owner is gone: the claim is an orphan.
            }
        }
        await _devices!.DeleteAsync(device, cancellationToken: ct);
        _owners.TryRemove(device, out _);
        return owner;
    }

    public async Task<IReadOnlyList<(string Device, string Gateway, IReadOnlyDictionary<string, string>? Labels)>> DevicesAsync(CancellationToken ct)
    {
        if (_ownersComplete)
        {
            // Kept current by the watch: no round trip, and no JetStream API call while a cluster elects a leader.
            return [.. _owners.Select(o => (o.Key, o.Value.Gateway, (IReadOnlyDictionary<string, string>?)o.Value.Labels))];
        }
        var list = new List<(string, string, IReadOnlyDictionary<string, string>?)>();
        if (_devices is null)
        {
            return list;
        }
        try
        {
            await foreach (var key in _devices.GetKeysAsync(cancellationToken: ct))
            {
                if (await ReadClaimOfAsync(_devices, key, ct) is { } claim)
                {
                    list.Add((key, claim.Gateway, claim.Labels));
                }
            }
        }
        catch (NatsKVException)
        {
            // An empty bucket has no keys to list.
        }
        catch (NatsException ex)
        {
            throw new GatewayException(HostErrorCodes.DeviceUnreachable, $"cannot list the devices of fleet '{_fleet}': {ex.Message}");
        }
        return list;
    }

    /// <summary>
    /// Runs a JetStream call, and once more when the server did not answer it: a cluster that has
    /// just lost a node leaves requests unanswered while it elects new leaders (seconds).
    /// </summary>
    private static async Task<T> AgainIfUnansweredAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (NatsJSApiNoResponseException)
        {
            return await call();
        }
    }

    public async Task<byte[]?> FetchAsync(string key, CancellationToken ct)
    {
        if (_artifacts is null)
        {
            return null;
        }
        try
        {
            // The store's digest only says the bytes are what was written; the signature says a gateway of the fleet wrote them.
            var stored = await AgainIfUnansweredAsync(() => _artifacts.GetBytesAsync(key, ct).AsTask());
            var opened = _trust.Open(ArtifactBinding(key), stored, FleetSigners.Gateways, fresh: false);
            LogFetched(_logger, key, opened.Payload.Length, opened.Signer);
            return opened.Payload;
        }
        catch (NatsObjNotFoundException)
        {
            return null;
        }
        catch (FleetTrustException ex)
        {
            // Native code no gateway of the fleet vouches for is never run: it is built here instead.
            LogArtifactRefused(_logger, key, ex.Message);
            return null;
        }
        catch (NatsException ex)
        {
            LogSharedFailed(_logger, "fetch", key, ex.Message);
            return null;
        }
    }

    /// <summary>What an artifact is signed for: its bucket and cache key, so it cannot stand in for another.</summary>
    private string ArtifactBinding(string key) => $"object wasmorch_{_fleet}_artifacts {key}";

    public async Task PublishAsync(string key, byte[] artifact, CancellationToken ct)
    {
        if (_artifacts is null)
        {
            return;
        }
        try
        {
            var sealedArtifact = _trust.Seal(ArtifactBinding(key), artifact);
            await AgainIfUnansweredAsync(() => _artifacts.PutAsync(key, sealedArtifact, ct).AsTask());
        }
        catch (NatsException ex)
        {
            LogSharedFailed(_logger, "publish", key, ex.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_joining is not null)
        {
            await _joining;
        }
        if (_watching is not null)
        {
            await _watching;
        }
        if (_serving is not null)
        {
            await _serving;
        }
        if (_renewing is not null)
        {
            await _renewing;
        }
        _renewNow.Dispose();
        await _inbox.DisposeAsync();
        if (_records is not null)
        {
            await _records.DisposeAsync();
        }
        await _nats.DisposeAsync();
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Fleet: gateway {Gateway} joined fleet {Fleet} at {Url} with {Devices} device(s)")]
    private static partial void LogJoined(ILogger logger, string gateway, string fleet, string url, int devices);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: cannot reach fleet {Fleet} at {Url} ({Reason}); serving this gateway's own devices and joining when it answers")]
    private static partial void LogUnreachable(ILogger logger, string fleet, string url, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Fleet: not joining fleet {Fleet}: {Reason}")]
    private static partial void LogJoinRefused(ILogger logger, string fleet, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Fleet: INSECURE DEVELOPMENT MODE: NATS at {Url} lets anyone in, and whoever reaches it controls fleet {Fleet} ([fleet] insecure_dev / --fleet-insecure); never in production, see docs/fleet.md")]
    private static partial void LogInsecure(ILogger logger, string url, string fleet);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: refused a message on {Subject}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string subject, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: the watch on device owners ended ({Reason}); owners are looked up per request")]
    private static partial void LogWatchFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: cannot read the fleet's stream {Stream} ({Reason}); this gateway's own record is shown")]
    private static partial void LogEventsFailed(ILogger logger, string stream, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: cannot follow the other gateways' {Kind}: {Reason}")]
    private static partial void FollowFailed(ILogger logger, string kind, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Fleet: artifact {Key} ({Bytes} bytes) fetched from the fleet, not compiled (signed by {Signer})")]
    private static partial void LogFetched(ILogger logger, string key, int bytes, string signer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: artifact {Key} in the fleet's store is refused ({Reason}); it is built here instead")]
    private static partial void LogArtifactRefused(ILogger logger, string key, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: could not {Action} artifact {Key}: {Reason}; it is compiled here instead")]
    private static partial void LogSharedFailed(ILogger logger, string action, string key, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Fleet: serving a forwarded request on {Subject} failed")]
    private static partial void LogAnswerFault(ILogger logger, Exception exception, string subject);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: could not answer a forwarded request on {Subject}: {Reason}")]
    private static partial void LogAnswerFailed(ILogger logger, string subject, string reason);
}
