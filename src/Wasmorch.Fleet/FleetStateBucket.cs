using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;
using Wasmorch.Gateway;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Fleet;

/// <summary>
/// What a fleet decides once for all its gateways (docs/fleet-ops.md), in the JetStream key-value
/// bucket <c>wasmorch_&lt;fleet&gt;_state</c>: the desired state under <c>desired</c> (every gateway
/// watches it and converges its own devices), and under <c>rollout</c> the gateway that coordinates
/// the fleet's rollouts (one at a time, fleet-wide). Both are signed (a gateway's or an operator's
/// key) for their key: a value nobody trusted wrote is ignored, and a desired state older than the
/// one adopted (an old signed value written again) is refused.
/// </summary>
internal sealed partial class FleetStateBucket(INatsKVStore store, string fleet, FleetTrust trust, ILogger logger)
{
    private static readonly NatsRawSerializer<byte[]> Raw = NatsRawSerializer<byte[]>.Default;

    private const string DesiredKey = "desired";
    private const string RolloutKey = "rollout";

    public static string Name(string fleet) => $"wasmorch_{fleet}_state";

    private string Binding(string key) => $"kv {Name(fleet)} {key}";

    /// <summary>When the desired state adopted last was signed: an older one is a replay.</summary>
    private DateTimeOffset _adopted = DateTimeOffset.MinValue;

    public async Task PutDesiredAsync(byte[] document, CancellationToken ct)
    {
        try
        {
            await store.PutAsync(DesiredKey, trust.Seal(Binding(DesiredKey), document), Raw, ct);
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
                if (entries.Current.Operation == NatsKVOperation.Put && entries.Current.Value is { Length: > 0 } value && Desired(value) is { } document)
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

    /// <summary>The document of a desired-state value, or null (logged) when it is not signed by the fleet or older than the one adopted.</summary>
    private byte[]? Desired(byte[] value)
    {
        try
        {
            var opened = trust.Open(Binding(DesiredKey), value, FleetSigners.GatewaysOrOperators, fresh: false);
            if (!trust.IsUnsigned && opened.Issued < _adopted)
            {
                throw new FleetTrustException($"signed by '{opened.Signer}' at {opened.Issued:O}, before the desired state adopted ({_adopted:O}): an old one written again");
            }
            _adopted = opened.Issued;
            return opened.Payload;
        }
        catch (FleetTrustException ex)
        {
            LogRefused(logger, DesiredKey, ex.Message);
            return null;
        }
    }

    /// <summary>The gateway a rollout value names, or null (logged) when it is not signed by that gateway or by an operator.</summary>
    private string? Coordinator(byte[]? value)
    {
        if (value is not { Length: > 0 })
        {
            return null;
        }
        try
        {
            var opened = trust.Open(Binding(RolloutKey), value, FleetSigners.GatewaysOrOperators, fresh: false);
            var gateway = Encoding.UTF8.GetString(opened.Payload);
            if (!NatsFleet.IsValidName(gateway) || (!trust.IsUnsigned && !opened.IsOperator && opened.Signer != gateway))
            {
                throw new FleetTrustException($"signed by '{opened.Signer}', but it names another gateway or no gateway name");
            }
            return gateway;
        }
        catch (FleetTrustException ex)
        {
            LogRefused(logger, RolloutKey, ex.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: the fleet state's {Key} is ignored: {Reason}")]
    private static partial void LogRefused(ILogger logger, string key, string reason);

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
            return entry.Success ? Coordinator(entry.Value.Value) : null;
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
        var value = trust.Seal(Binding(RolloutKey), Encoding.UTF8.GetBytes(gateway));
        try
        {
            var entry = await store.TryGetEntryAsync(RolloutKey, serializer: Raw, cancellationToken: ct);
            if (!entry.Success)
            {
                return (await store.TryCreateAsync(RolloutKey, value, Raw, ct)).Success;
            }
            // A value nobody trusted wrote counts as no coordinator: it cannot freeze the fleet's rollouts.
            if (Coordinator(entry.Value.Value) != current)
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
