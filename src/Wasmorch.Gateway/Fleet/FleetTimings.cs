namespace Wasmorch.Gateway.Fleet;

/// <summary>
/// How long a gateway's fleet parts wait, renew and give up (docs/fleet.md, Timings), read from the
/// config's <c>[fleet]</c> table. One immutable value per gateway process instead of process-wide
/// statics, so that a test can start a gateway with short timings and two gateways in one process
/// (the tests' own) keep their own. It lives in the gateway's assembly, not in Wasmorch.Fleet: the
/// config that reads it and the desired-state follower that uses two of it are here, and
/// Wasmorch.Fleet references this assembly, not the other way round.
/// </summary>
public sealed record FleetTimings
{
    /// <summary>The defaults of a gateway whose [fleet] table sets none.</summary>
    public static FleetTimings Default { get; } = new();

    /// <summary>claim_lease_ms: how long a device claim holds unrenewed; renewed every third of it. A gateway gone longer loses its devices' claims.</summary>
    public TimeSpan ClaimLease { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// silence_limit_ms: how long the gateway that forwarded a request waits without hearing from the
    /// gateway serving it before it says that one is gone. Long enough for a client's reconnect to
    /// another node of a cluster; longer than the serving side's <see cref="WorkingInterval"/>.
    /// </summary>
    public TimeSpan SilenceLimit { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>working_interval_ms: how often a gateway serving a forwarded request says it is still at work.</summary>
    public TimeSpan WorkingInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>forward_margin_ms: how long a forwarded request may take beyond its own deadline (a build, an upload).</summary>
    public TimeSpan ForwardMargin { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>rejoin_interval_ms: how often a gateway that could not reach NATS at start tries again.</summary>
    public TimeSpan RejoinInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>record_read_limit_ms: how long reading the fleet's record (jobs, logs) may take before the gateways are asked instead.</summary>
    public TimeSpan RecordReadLimit { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>record_give_up_ms: how long a job record is tried again while the stream refuses it, before it is dropped (the state file keeps it).</summary>
    public TimeSpan RecordGiveUp { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>trust_window_ms: how far a signed request's or reply's time may be from this clock; older (or later) ones are refused.</summary>
    public TimeSpan TrustWindow { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>desired_retry_ms: how long to wait before watching the fleet's desired state again when the fleet is out of reach.</summary>
    public TimeSpan DesiredRetry { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// desired_grace_ms: how long a new desired state is left to the gateway that applied it (which
    /// hands it to every gateway with selected devices) before this one adopts it itself.
    /// </summary>
    public TimeSpan DesiredGrace { get; init; } = TimeSpan.FromSeconds(5);
}
