using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using NATS.Client.ObjectStore;
using NATS.Net;
using Wasmorch.Gateway;
using Wasmorch.Gateway.Fleet;
using Wasmorch.Gateway.Supervision;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Fleet;

/// <summary>
/// Joining the fleet (docs/fleet.md): the connection, the fleet's buckets, streams and object store
/// created or opened, this gateway's devices claimed, and its request subject served; or, for a
/// client, only observing it. A gateway that cannot reach NATS at start serves its own devices and
/// joins when NATS answers.
/// </summary>
public sealed partial class NatsFleet
{
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
            // Supervised: the rejoin loop names what it expects; anything else is logged and the loop started again.
            _joining = LoopSupervisor.RunAsync("fleet: rejoin", c => RejoinAsync(devices, serve, c), _logger, _stop.Token);
        }
    }

    private Task? _joining;

    private async Task RejoinAsync(IReadOnlyCollection<string> devices, ServeForwarded serve, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_timings.RejoinInterval, ct);
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
        // Each background loop of the fleet runs supervised (LoopSupervisor): an exception it did not
        // name is logged with its stack and the loop started again, never lost with a faulted task.
        _renewing = LoopSupervisor.RunAsync("fleet: claim renewal", c => RenewClaimsAsync(store, c), _logger, _stop.Token);
        // Subscribed before the store is published: a request forwarded the moment after finds it listening.
        var subscription = await _nats.SubscribeCoreAsync(ApiSubject(GatewayName), serializer: Raw, cancellationToken: ct);
        _serving = ServeAsync(subscription, serve, _stop.Token);
        _records = new RecordWriter(_nats.CreateJetStreamContext(), _timings.RecordGiveUp, _logger);
        _devices = store;
        _watching = LoopSupervisor.RunAsync("fleet: device owners watch", c => WatchOwnersAsync(store, c), _logger, _stop.Token);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Fleet: gateway {Gateway} joined fleet {Fleet} at {Url} with {Devices} device(s)")]
    private static partial void LogJoined(ILogger logger, string gateway, string fleet, string url, int devices);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: cannot reach fleet {Fleet} at {Url} ({Reason}); serving this gateway's own devices and joining when it answers")]
    private static partial void LogUnreachable(ILogger logger, string fleet, string url, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Fleet: not joining fleet {Fleet}: {Reason}")]
    private static partial void LogJoinRefused(ILogger logger, string fleet, string reason);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Fleet: INSECURE DEVELOPMENT MODE: NATS at {Url} lets anyone in, and whoever reaches it controls fleet {Fleet} ([fleet] insecure_dev / --fleet-insecure); never in production, see docs/fleet.md")]
    private static partial void LogInsecure(ILogger logger, string url, string fleet);
}
