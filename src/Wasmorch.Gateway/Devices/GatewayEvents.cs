using System.Globalization;
using System.Threading.Channels;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Agent.Replies;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Devices;

/// <summary>
/// What happens on this gateway's devices, to whoever follows (the HTTP API's live streams, the
/// dashboard), as host API responses with an <c>event</c>: <c>job</c> (a job starts or ends:
/// <c>jobs</c> holds it), <c>module</c> (a module is loaded or unloaded: <c>module_id</c>,
/// <c>status</c> LOADED/UNLOADED, with <c>crc32</c>, <c>sha256</c>, <c>size</c> when loaded), <c>device</c> (<c>status</c>
/// CONNECTED, LINK_LOST or DEVICE_RESET, <c>message</c> why). A device observer, so it sees exactly
/// what the state file records; in a fleet, the other gateways' events come too (<see cref="Relay"/>).
/// A follower that falls behind loses its oldest events, never slows a
/// device session.
/// </summary>
public sealed class GatewayEvents : IDeviceObserver
{
    private const int FollowerBuffer = 1000;
    private readonly List<Channel<HostResponse>> _followers = [];

    /// <summary>The events from now on, until <paramref name="ct"/> ends.</summary>
    public async IAsyncEnumerable<HostResponse> FollowAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var channel = Channel.CreateBounded<HostResponse>(new BoundedChannelOptions(FollowerBuffer) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (_followers)
        {
            _followers.Add(channel);
        }
        try
        {
            await foreach (var change in channel.Reader.ReadAllAsync(ct))
            {
                yield return change;
            }
        }
        finally
        {
            lock (_followers)
            {
                _followers.Remove(channel);
            }
        }
    }

    /// <summary>This gateway's name in a fleet: its events carry it as <c>gateway</c>.</summary>
    public string? GatewayName { get; set; }

    /// <summary>Each event of this gateway's own, as it happens (a fleet passes them on to the other gateways).</summary>
    public event Action<HostResponse>? Published;

    /// <summary>An event of another gateway of the fleet, for this gateway's followers (not passed on again).</summary>
    public void Relay(HostResponse change)
    {
        change.Ok = true;
        Deliver(change);
    }

    private void Publish(HostResponse change)
    {
        change.Ok = true;
        change.Gateway = GatewayName;
        Deliver(change);
        Published?.Invoke(change);
    }

    private void Deliver(HostResponse change)
    {
        lock (_followers)
        {
            foreach (var follower in _followers)
            {
                follower.Writer.TryWrite(change);
            }
        }
    }

    /// <summary>A rollout recorded a step (event <c>rollout</c>; <c>rollout status</c> says where it is).</summary>
    public void RolloutChanged() => Publish(new HostResponse { Event = "rollout" });

    private void Publish(JobRecord job) => Publish(new HostResponse { Event = "job", Device = job.Device, Jobs = [job] });

    private void DeviceChanged(string device, string status, string? why) => Publish(new HostResponse { Event = "device", Device = device, Status = status, Message = why });

    private static string Now() => DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public void JobStarted(string device, long job, string moduleId, string func, string? args) =>
        Publish(new JobRecord { Device = device, Job = job, ModuleId = moduleId, Func = func, Args = args, Status = "RUNNING", StartedAt = Now() });

    public void JobEnded(string device, long job, JobResult result) => Publish(new JobRecord
    {
        Device = device,
        Job = job,
        ModuleId = result.ModuleId ?? string.Empty,
        Func = result.Func ?? string.Empty,
        Status = result.StatusText,
        Value = result.Value?.Text,
        Message = result.Message,
        ElapsedUs = result.ElapsedUs,
        EndedAt = Now(),
    });

    public void Mapped(string device, string endpoint)
    {
    }

    public void Connected(string device, string agent) => DeviceChanged(device, "CONNECTED", agent);

    public void Reset(string device, string reason) => DeviceChanged(device, "DEVICE_RESET", reason);

    public void LinkLost(string device, string reason) => DeviceChanged(device, "LINK_LOST", reason);

    public void StatusReported(string device, StatusReport status)
    {
    }

    public Task ModuleLoadedAsync(string device, HeldModule held)
    {
        Publish(new HostResponse { Event = "module", Device = device, ModuleId = held.ModuleId, Status = "LOADED", Crc32 = held.Crc32, Sha256 = held.Sha256, Size = held.Size });
        return Task.CompletedTask;
    }

    public void ModuleHeld(string device, HeldModule held)
    {
    }

    public void ModuleUnloaded(string device, string moduleId) => Publish(new HostResponse { Event = "module", Device = device, ModuleId = moduleId, Status = "UNLOADED" });
}
