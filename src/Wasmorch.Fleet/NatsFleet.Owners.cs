using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using NATS.Client.ObjectStore;
using NATS.Net;
using Wasmorch.Gateway;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Fleet;

/// <summary>
/// Which gateway owns which device, as the claims say (docs/fleet.md): looked up in
/// <see cref="_owners"/>, kept current by a watch on the bucket, or in the bucket itself before the
/// watch has delivered the whole fleet; and a claim given up for a board that moved.
/// </summary>
public sealed partial class NatsFleet
{
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
    /// Keeps <see cref="_owners"/> current from the bucket, and wakes the renewal when one of this
    /// gateway's claims was overwritten. A NATS failure ends it (owners are then read per request).
    /// </summary>
    private async Task WatchOwnersAsync(INatsKVStore store, CancellationToken ct)
    {
        try
        {
            var opts = new NatsKVWatchOpts
            {
                // An empty bucket: nothing to wait for.
                OnNoData = _ =>
                {
                    _ownersComplete = true;
                    return ValueTask.FromResult(false);
                },
            };
            await foreach (var entry in store.WatchAsync(serializer: Raw, opts: opts, cancellationToken: ct))
            {
                string? refused = null;
                var claim = entry.Operation == NatsKVOperation.Put ? ReadClaim(entry.Key, entry.Value, out refused) : null;
                if (claim is { } held)
                {
                    _owners[entry.Key] = held;
                }
                else
                {
                    _owners.TryRemove(entry.Key, out _);
                    if (refused is not null)
                    {
                        LogClaimRefused(_logger, Printable(entry.Key), refused);
                    }
                }
                if (_ownDevices.Contains(entry.Key, StringComparer.Ordinal) && claim?.Gateway != GatewayName && _renewNow.CurrentCount == 0)
                {
                    // One of this gateway's devices pointed elsewhere (or deleted): put the claim back now.
                    _renewNow.Release();
                }
                if (entry.Delta == 0)
                {
                    _ownersComplete = true;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (NatsException ex)
        {
            // Owners are then looked up in the bucket on every request, which is slower, not wrong.
            _ownersComplete = false;
            _owners.Clear();
            LogWatchFailed(_logger, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: the watch on device owners ended ({Reason}); owners are looked up per request")]
    private static partial void LogWatchFailed(ILogger logger, string reason);
}
