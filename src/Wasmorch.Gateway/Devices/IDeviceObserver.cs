using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Agent.Replies;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Devices;

/// <summary>
/// What happens on a device, as its session sees it. The gateway's state file is one observer
/// (<see cref="State.StateRecorder"/>); nothing else writes it. Calls come from the link's read
/// loop or a command's continuation: observers must not block.
/// </summary>
public interface IDeviceObserver
{
    /// <summary>The device is in this gateway's map, at this endpoint.</summary>
    void Mapped(string device, string endpoint);

    void Connected(string device, string agent);

    /// <summary>START_OK, before any RESULT of the job can be routed.</summary>
    void JobStarted(string device, long job, string moduleId, string func, string? args);

    void JobEnded(string device, long job, JobResult result);

    /// <summary>The board restarted (BOOT, or an uptime that went back): its RAM, modules and job are gone.</summary>
    void Reset(string device, string reason);

    void LinkLost(string device, string reason);

    /// <summary>A STATUS reply: the device is the truth for what it holds.</summary>
    void StatusReported(string device, StatusReport status);

    /// <summary>LOAD_OK. Awaited: a deploy is acknowledged only once observers have it (durably, for the state file).</summary>
    Task ModuleLoadedAsync(string device, HeldModule held);

    /// <summary>The device already held the module (upload skipped).</summary>
    void ModuleHeld(string device, HeldModule held);

    void ModuleUnloaded(string device, string moduleId);
}
