using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Fleet;

/// <summary>
/// The gateways this one shares a fleet with (docs/fleet.md): who owns which device, and a way to
/// hand a request to the owner. A gateway without a fleet has none; the transport (NATS) lives
/// behind this interface, in Wasmorch.Fleet.
/// </summary>
/// <summary>Serves a request another gateway forwarded here, emitting its events (progress) on the way.</summary>
public delegate Task<HostResponse> ServeForwarded(HostRequest request, Func<HostResponse, Task> emit, CancellationToken ct);

public interface IFleet : IAsyncDisposable
{
    /// <summary>This gateway's name in the fleet.</summary>
    string GatewayName { get; }

    /// <summary>
    /// Claims <paramref name="devices"/> for this gateway (a device another gateway owns is a
    /// <see cref="GatewayException"/>: nothing is taken over) and starts serving requests that
    /// other gateways forward here with <paramref name="serve"/>. Each claim carries the device
    /// map's labels of its device (<paramref name="labelsOf"/>), so that selectors still find the
    /// devices of a gateway that is lost.
    /// </summary>
    Task JoinAsync(IReadOnlyCollection<string> devices, Func<string, IReadOnlyDictionary<string, string>?> labelsOf, ServeForwarded serve, CancellationToken ct);

    /// <summary>The gateway that owns <paramref name="device"/>, or null when no gateway of the fleet claims it.</summary>
    Task<string?> OwnerOfAsync(string device, CancellationToken ct);

    /// <summary>
    /// Has <paramref name="gateway"/> carry out <paramref name="request"/>; its answer, as it gave it.
    /// The events it emits on the way (upload progress) go to <paramref name="emit"/> when given.
    /// </summary>
    Task<HostResponse> ForwardAsync(string gateway, HostRequest request, Func<HostResponse, Task>? emit, CancellationToken ct);

    /// <summary>Every device the fleet's gateways claim, with its gateway and the device map's labels its claim carries.</summary>
    Task<IReadOnlyList<(string Device, string Gateway, IReadOnlyDictionary<string, string>? Labels)>> DevicesAsync(CancellationToken ct);

    /// <summary>Tells the fleet about a LOG line of one of this gateway's devices (best effort, never blocks).</summary>
    void PublishLog(LogEntry entry);

    /// <summary>
    /// The last <paramref name="count"/> LOG lines of the whole fleet, oldest first, as the fleet
    /// keeps them (so they outlive the gateway that sent them); null when the fleet is out of reach.
    /// </summary>
    Task<List<LogEntry>?> RecentLogsAsync(int count, CancellationToken ct);

    /// <summary>The LOG lines the other gateways publish from now on, until <paramref name="ct"/> ends.</summary>
    IAsyncEnumerable<LogEntry> FollowLogsAsync(CancellationToken ct);

    /// <summary>Tells the fleet about an event a module of one of this gateway's devices published (best effort, live only).</summary>
    void PublishEvent(ModuleEvent entry);

    /// <summary>The events the other gateways' modules publish from now on, until <paramref name="ct"/> ends.</summary>
    IAsyncEnumerable<ModuleEvent> FollowEventsAsync(CancellationToken ct);

    /// <summary>
    /// Tells the fleet about a change on one of this gateway's devices (a <see cref="Devices.GatewayEvents"/>
    /// event: job, module, device, rollout) for the other gateways' live followers (best effort, never blocks).
    /// </summary>
    void PublishChange(HostResponse change);

    /// <summary>The changes the other gateways publish from now on, until <paramref name="ct"/> ends.</summary>
    IAsyncEnumerable<HostResponse> FollowChangesAsync(CancellationToken ct);

    /// <summary>Tells the fleet about a job of one of this gateway's devices, as it now stands (best effort, never blocks).</summary>
    void PublishJob(JobRecord job);

    /// <summary>
    /// The newest <paramref name="limit"/> jobs of the fleet (of <paramref name="device"/> only, when
    /// named), newest first, as the fleet keeps them (so they outlive the gateway that ran them);
    /// null when the fleet is out of reach.
    /// </summary>
    Task<List<JobRecord>?> RecentJobsAsync(string? device, int limit, CancellationToken ct);

    /// <summary>
    /// Makes <paramref name="document"/> (an <c>apply</c> request whose modules are named by SHA-256,
    /// their bytes in the fleet's store) the desired state of the whole fleet: every gateway adopts
    /// it for its own devices, now or when it next joins.
    /// </summary>
    Task PutDesiredAsync(byte[] document, CancellationToken ct);

    /// <summary>
    /// The fleet's desired state as it is (when there is one; <c>Current</c> true), then each new
    /// one as it is written, until <paramref name="ct"/> ends.
    /// </summary>
    IAsyncEnumerable<(byte[] Document, bool Current)> WatchDesiredAsync(CancellationToken ct);

    /// <summary>The gateway that coordinates the fleet's rollouts (it ran the latest), or null when none ever ran.</summary>
    Task<string?> RolloutCoordinatorAsync(CancellationToken ct);

    /// <summary>
    /// Makes this gateway the coordinator of the fleet's rollouts, if the coordinator is still
    /// <paramref name="current"/> (null: there never was one); false when another gateway changed it first.
    /// </summary>
    Task<bool> TakeRolloutsAsync(string? current, CancellationToken ct);
}
