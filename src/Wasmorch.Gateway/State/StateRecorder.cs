using Wasmorch.Gateway.Devices;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Agent.Replies;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.State;

/// <summary>The state file as an observer of every device session: the one place that writes what happens on devices.</summary>
public sealed class StateRecorder : IDeviceObserver
{
    private readonly GatewayState _state;

    public StateRecorder(GatewayState state) => _state = state;

    public void Mapped(string device, string endpoint) => _state.RecordDevice(device, endpoint);

    public void Connected(string device, string agent) => _state.RecordAgent(device, agent);

    public void JobStarted(string device, long job, string moduleId, string func, string? args) =>
        _state.RecordJobStarted(device, job, moduleId, func, args);

    public void JobEnded(string device, long job, JobResult result) =>
        _state.RecordJobEnded(device, job, result.StatusText, result.Value?.Text, result.Message, result.ElapsedUs);

    public void Reset(string device, string reason) => _state.RecordDeviceReset(device, reason);

    public void LinkLost(string device, string reason) => _state.RecordLinkLost(device, reason);

    public void StatusReported(string device, StatusReport status)
    {
        if (status.ModulesText is { } modules)
        {
            _state.ReconcileHoldings(device, modules, status.ModuleCrcsText);
        }
    }

    public Task ModuleLoadedAsync(string device, HeldModule held) => _state.RecordDeployedAsync(device, held);

    /// <summary>Fills in the SHA-256 that the device's STATUS cannot tell; not awaited: nothing new was deployed.</summary>
    public void ModuleHeld(string device, HeldModule held) => _ = _state.RecordDeployedAsync(device, held);

    public void ModuleUnloaded(string device, string moduleId) => _state.RecordUnloaded(device, moduleId);
}
