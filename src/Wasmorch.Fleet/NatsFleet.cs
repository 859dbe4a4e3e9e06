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
/// <para>
/// One class in partial files by concern, because every concern shares the one connection, the
/// trust, the timings and the stop of this gateway's membership: this file holds the state and its
/// end; .Join (connect, buckets, streams, rejoin), .Claims (claim values, leases, renewal), .Owners
/// (owner lookups and the watch), .Requests (forwarding and serving), .Records (logs, events, changes,
/// job records), .Artifacts (the shared object store), .State (desired state and rollout
/// coordination). What has state of its own is a class: <see cref="FleetStateBucket"/>,
/// <see cref="RecordWriter"/>, <see cref="ReplyInbox"/>.
/// </para>
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
    /// <param name="timings">Leases, silences and retries ([fleet] *_ms; null: <see cref="FleetTimings.Default"/>).</param>
    public NatsFleet(string url, string gatewayName, string fleet, ILogger logger, FleetSecurity? security = null, int replicas = 1, FleetTrust? trust = null,
        FleetTimings? timings = null)
    {
        _timings = timings ?? FleetTimings.Default;
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
        _inbox = new ReplyInbox(_nats, fleet, logger);
    }

    public string GatewayName { get; }

    /// <summary>Signs what this gateway sends and checks what it acts on (docs/security.md).</summary>
    private readonly FleetTrust _trust;

    private readonly FleetSecurity _security;

    /// <summary>How long this gateway's fleet parts wait, renew and give up.</summary>
    private readonly FleetTimings _timings;

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
}
