using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.KeyValueStore;
using Wasmorch.Gateway;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Fleet;

/// <summary>
/// Device claims (docs/fleet.md): <c>wasmorch_&lt;fleet&gt;_devices</c> maps a device to its gateway,
/// each value <c>&lt;gateway&gt; &lt;lease end, unix ms&gt;</c> signed by that gateway for that key. A
/// claim not signed by the gateway it names is ignored (and the real owner writes its own back at
/// once); a claim whose lease ran out (its gateway stopped renewing it) may be taken by another.
/// </summary>
public sealed partial class NatsFleet
{
    /// <summary>A claim as the bucket holds it: the device's gateway, its lease end, and the device map's labels it carries.</summary>
    private sealed record Claim(string Gateway, DateTimeOffset Until, Dictionary<string, string>? Labels);

    /// <summary>How long a claim holds without being renewed ([fleet] claim_lease_ms); renewed every third of it.</summary>
    private TimeSpan Lease => _timings.ClaimLease;

    private string[] _ownDevices = [];
    private Task? _renewing;

    /// <summary>Wakes the renewal at once: the watch saw one of this gateway's claims overwritten.</summary>
    private readonly SemaphoreSlim _renewNow = new(0, 1);

    private string DevicesBucket => $"wasmorch_{_fleet}_devices";

    private string ClaimBinding(string device) => $"kv {DevicesBucket} {device}";

    /// <summary>The device map's labels of this gateway's devices, which its claims carry (null until joined).</summary>
    private Func<string, IReadOnlyDictionary<string, string>?> _labelsOf = _ => null;

    /// <summary>
    /// <c>&lt;gateway&gt; &lt;lease end&gt;[ &lt;key=value,…&gt;]</c>: the device map's labels ride
    /// along, signed with the claim, so that a selector still finds the device when its gateway is
    /// lost (docs/fleet-ops.md). Label keys and values hold no space, ',' or '=' (Selector's rules).
    /// </summary>
    private byte[] NewClaim(string device)
    {
        var text = $"{GatewayName} {(DateTimeOffset.UtcNow + Lease).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}";
        if (_labelsOf(device) is { Count: > 0 } labels)
        {
            text += " " + string.Join(',', labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));
        }
        return _trust.Seal(ClaimBinding(device), Encoding.UTF8.GetBytes(text));
    }

    /// <summary>A claim as read: its gateway, lease end and labels, or null (with why) when it is not one to believe.</summary>
    private Claim? ReadClaim(string device, byte[]? value, out string? refused)
    {
        refused = null;
        if (value is not { Length: > 0 })
        {
            return null;
        }
        try
        {
            var opened = _trust.Open(ClaimBinding(device), value, FleetSigners.Gateways, fresh: false);
            // Two fields from a gateway before issue 31, three with labels.
            var fields = Encoding.UTF8.GetString(opened.Payload).Split(' ');
            var gateway = fields[0];
            if (!IsValidName(gateway) || fields.Length is < 2 or > 3 || !long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var until))
            {
                throw new FleetTrustException("not '<gateway> <lease end> [labels]'");
            }
            if (!_trust.IsUnsigned && opened.Signer != gateway)
            {
                // No gateway claims a device for another.
                throw new FleetTrustException($"signed by '{opened.Signer}', but it names gateway '{gateway}'");
            }
            return new Claim(gateway, DateTimeOffset.FromUnixTimeMilliseconds(until), fields.Length == 3 ? ParseLabels(fields[2]) : null);
        }
        catch (FleetTrustException ex)
        {
            refused = ex.Message;
            return null;
        }
    }

    private static Dictionary<string, string> ParseLabels(string text)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in text.Split(','))
        {
            if (pair.Split('=') is not [var key, var value] || !Selector.IsKey(key) || !Selector.IsValue(value) || !labels.TryAdd(key, value))
            {
                throw new FleetTrustException($"its labels are not key=value,…: '{Printable(text)}'");
            }
        }
        return labels;
    }

    /// <summary>Claims <paramref name="device"/> for this gateway; the revision of the claim written.</summary>
    private async Task<ulong> ClaimAsync(INatsKVStore store, string device, CancellationToken ct)
    {
        var created = await store.TryCreateAsync(device, NewClaim(device), Raw, ct);
        if (created.Success)
        {
            return created.Value;
        }
        var entry = await store.TryGetEntryAsync(device, serializer: Raw, cancellationToken: ct);
        var claim = entry.Success ? ReadClaim(device, entry.Value.Value, out _) : null;
        if (claim is { } held && held.Gateway != GatewayName && held.Until > DateTimeOffset.UtcNow)
        {
            throw new GatewayException(HostErrorCodes.DeviceClaimed,
                $"device '{device}' belongs to gateway '{held.Gateway}' of fleet '{_fleet}'; a device name is unique in a fleet, and this gateway takes nothing over: rename it here or remove it from '{held.Gateway}'");
        }
        // This gateway's own claim, a lease run out, or a value nobody trusted wrote: this gateway's claim replaces it.
        var revision = entry.Success ? entry.Value.Revision : 0;
        var updated = await store.TryUpdateAsync(device, NewClaim(device), revision, Raw, ct);
        return updated.Success
            ? updated.Value
            : throw new GatewayException(HostErrorCodes.DeviceClaimed, $"device '{device}' was claimed by another gateway of fleet '{_fleet}' at the same moment");
    }

    /// <summary>
    /// Claims every one of <paramref name="devices"/>, or none: when one cannot be claimed, those
    /// claimed before it are released before the error goes on, since a gateway whose join failed
    /// serves none of them in the fleet and would otherwise keep them from any other gateway for a
    /// whole lease (issue 31).
    /// </summary>
    private async Task ClaimAllAsync(INatsKVStore store, IReadOnlyCollection<string> devices, CancellationToken ct)
    {
        var taken = new List<(string Device, ulong Revision)>();
        try
        {
            foreach (var device in devices)
            {
                taken.Add((device, await ClaimAsync(store, device, ct)));
            }
        }
        catch (Exception ex) when (ex is GatewayException or NatsException)
        {
            foreach (var (device, revision) in taken)
            {
                await ReleaseTakenAsync(store, device, revision);
            }
            throw;
        }
    }

    /// <summary>Deletes this gateway's claim on <paramref name="device"/> if it is still the one it wrote (<paramref name="revision"/>).</summary>
    private async Task ReleaseTakenAsync(INatsKVStore store, string device, ulong revision)
    {
        try
        {
            // Not the caller's token: the release is what a cancelled or failed join leaves behind, bounded on its own.
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await store.DeleteAsync(device, new NatsKVDeleteOpts { Revision = revision }, bounded.Token);
            LogClaimReleased(_logger, device);
        }
        catch (Exception ex) when (ex is NatsException or OperationCanceledException)
        {
            // Still this gateway's until its lease runs out, which no other gateway needs to wait past.
            LogReleaseFailed(_logger, device, ex.Message);
        }
    }

    /// <summary>Renews this gateway's claims every third of <see cref="Lease"/>, and at once when one was overwritten.</summary>
    private async Task RenewClaimsAsync(INatsKVStore store, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await _renewNow.WaitAsync(Lease / 3, ct);
                foreach (var device in _ownDevices)
                {
                    _ = await ClaimAsync(store, device, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is GatewayException or NatsException)
            {
                // Tried again next round: NATS away, or a gateway that took a device whose lease ran out.
                LogRenewFailed(_logger, ex.Message);
            }
        }
    }

    /// <summary>The trusted claim on <paramref name="device"/> in <paramref name="store"/>, or null when it has none.</summary>
    private async Task<Claim?> ReadClaimOfAsync(INatsKVStore store, string device, CancellationToken ct)
    {
        var entry = await store.TryGetEntryAsync(device, serializer: Raw, cancellationToken: ct);
        if (!entry.Success)
        {
            return null;
        }
        var claim = ReadClaim(device, entry.Value.Value, out var refused);
        if (refused is not null && _trust.IsUnsigned)
        {
            // A client without keys before a secure fleet: that, not "no such device", is the news.
            throw new GatewayException(HostErrorCodes.Unauthorized, $"the claim on '{Printable(device)}' cannot be checked: {refused}");
        }
        if (refused is not null)
        {
            LogClaimRefused(_logger, Printable(device), refused);
        }
        return claim;
    }

    /// <summary>A key or name from the bucket, for a log line (it may hold anything).</summary>
    private static string Printable(string text) => text.Length <= 64 && text.All(c => !char.IsControl(c)) ? text : "(unprintable)";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: the claim on device {Device} is ignored: {Reason}")]
    private static partial void LogClaimRefused(ILogger logger, string device, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Fleet: released the claim on device {Device}: this gateway did not join")]
    private static partial void LogClaimReleased(ILogger logger, string device);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: could not release the claim on device {Device} ({Reason}); it holds until its lease runs out")]
    private static partial void LogReleaseFailed(ILogger logger, string device, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: could not renew this gateway's claims: {Reason}")]
    private static partial void LogRenewFailed(ILogger logger, string reason);
}
