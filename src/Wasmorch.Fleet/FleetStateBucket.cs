using System.Runtime.CompilerServices;
using System.Text;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;
using Wasmorch.Gateway;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Fleet;

/// <summary>
/// What a fleet decides once for all its gateways (docs/fleet-ops.md), in the JetStream key-value
/// bucket <c>wasmorch_&lt;fleet&gt;_state</c>: the desired state under <c>desired</c> (every gateway
/// watches it and converges its own devices), and under <c>rollout</c> the gateway that coordinates
/// the fleet's rollouts (one at a time, fleet-wide).
/// </summary>
internal sealed class FleetStateBucket(INatsKVStore store, string fleet)
{
    private static readonly NatsRawSerializer<byte[]> Raw = NatsRawSerializer<byte[]>.Default;

    private const string DesiredKey = "desired";
    private const string RolloutKey = "rollout";

    public static string Name(string fleet) => $"wasmorch_{fleet}_state";

    public async Task PutDesiredAsync(byte[] document, CancellationToken ct)
    {
        try
        {
            await store.PutAsync(DesiredKey, document, Raw, ct);
        }
        catch (NatsException ex)
        {
            throw new GatewayException(HostErrorCodes.DeviceUnreachable, $"cannot write the desired state of fleet '{fleet}': {ex.Message}; nothing was changed");
        }
    }

    /// <summary>
    /// The desired state now (when there is one, <c>Current</c>), then each new one, until
    /// <paramref name="ct"/> ends. What the bucket held before the watch began is told apart by its
    /// revision, read first.
    /// </summary>
    public async IAsyncEnumerable<(byte[] Document, bool Current)> WatchDesiredAsync([EnumeratorCancellation] CancellationToken ct)
    {
        ulong held;
        try
        {
            var now = await store.TryGetEntryAsync(DesiredKey, serializer: Raw, cancellationToken: ct);
            held = now.Success ? now.Value.Revision : 0;
        }
        catch (NatsException ex)
        {
            throw new GatewayException(HostErrorCodes.DeviceUnreachable, $"cannot read fleet '{fleet}''s desired state: {ex.Message}");
        }
        var entries = store.WatchAsync(DesiredKey, serializer: Raw, cancellationToken: ct).GetAsyncEnumerator(ct);
        try
        {
            while (await NextAsync(entries))
            {
                if (entries.Current.Operation == NatsKVOperation.Put && entries.Current.Value is { Length: > 0 } document)
                {
                    yield return (document, entries.Current.Revision <= held);
                }
            }
        }
        finally
        {
            await entries.DisposeAsync();
        }
    }

    private async Task<bool> NextAsync(IAsyncEnumerator<NatsKVEntry<byte[]>> entries)
    {
        try
        {
            return await entries.MoveNextAsync();
        }
        catch (NatsException ex)
        {
            throw new GatewayException(HostErrorCodes.DeviceUnreachable, $"the watch of fleet '{fleet}''s desired state broke off: {ex.Message}");
        }
    }

    public async Task<string?> RolloutCoordinatorAsync(CancellationToken ct)
    {
        try
        {
            var entry = await store.TryGetEntryAsync(RolloutKey, serializer: Raw, cancellationToken: ct);
            return entry.Success && entry.Value.Value is { Length: > 0 } gateway ? Encoding.UTF8.GetString(gateway) : null;
        }
        catch (NatsException ex)
        {
            throw new GatewayException(HostErrorCodes.DeviceUnreachable, $"cannot read which gateway coordinates the rollouts of fleet '{fleet}': {ex.Message}");
        }
    }

    /// <summary>
    /// Names <paramref name="gateway"/> the coordinator, if the coordinator is still
    /// <paramref name="current"/> (null: there never was one); false when another gateway changed it first.
    /// </summary>
    public async Task<bool> TakeRolloutsAsync(string gateway, string? current, CancellationToken ct)
    {
        var value = Encoding.UTF8.GetBytes(gateway);
        try
        {
            if (current is null)
            {
                return (await store.TryCreateAsync(RolloutKey, value, Raw, ct)).Success;
            }
            var entry = await store.TryGetEntryAsync(RolloutKey, serializer: Raw, cancellationToken: ct);
            if (!entry.Success || entry.Value.Value is not { } holder || Encoding.UTF8.GetString(holder) != current)
            {
                return false;
            }
            return (await store.TryUpdateAsync(RolloutKey, value, entry.Value.Revision, Raw, ct)).Success;
        }
        catch (NatsException ex)
        {
            throw new GatewayException(HostErrorCodes.DeviceUnreachable, $"cannot record the coordinator of the rollouts of fleet '{fleet}': {ex.Message}; no rollout was started");
        }
    }
}
