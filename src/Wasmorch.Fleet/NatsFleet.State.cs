using Wasmorch.Gateway;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Fleet;

/// <summary>
/// The fleet's desired state and rollout coordination (docs/fleet-ops.md), kept by
/// <see cref="FleetStateBucket"/>: a gateway that has not joined yet says so instead.
/// </summary>
public sealed partial class NatsFleet
{
    private FleetStateBucket State => _state
        ?? throw new GatewayException(HostErrorCodes.DeviceUnreachable, $"this gateway has not joined fleet '{_fleet}' yet (NATS at {Url} is out of reach)");

    public Task PutDesiredAsync(byte[] document, CancellationToken ct) => State.PutDesiredAsync(document, ct);

    public IAsyncEnumerable<(byte[] Document, bool Current)> WatchDesiredAsync(CancellationToken ct) => State.WatchDesiredAsync(ct);

    public Task<string?> RolloutCoordinatorAsync(CancellationToken ct) => State.RolloutCoordinatorAsync(ct);

    public Task<bool> TakeRolloutsAsync(string? current, CancellationToken ct) => State.TakeRolloutsAsync(GatewayName, current, ct);
}
