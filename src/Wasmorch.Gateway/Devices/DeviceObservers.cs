using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Agent.Replies;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Devices;

/// <summary>Several observers of the device sessions as one (the state file, the fleet), told in order.</summary>
public sealed class DeviceObservers(IReadOnlyList<IDeviceObserver> observers) : IDeviceObserver
{
    /// <summary>The observers given, as one; null when there is none.</summary>
    public static IDeviceObserver? Of(params IDeviceObserver?[] observers) =>
        observers.OfType<IDeviceObserver>().ToList() switch
        {
            [] => null,
            [var one] => one,
            var many => new DeviceObservers(many),
        };

    public void Mapped(string device, string endpoint) => Each(o => o.Mapped(device, endpoint));

    public void Connected(string device, string agent) => Each(o => o.Connected(device, agent));

    public void JobStarted(string device, long job, string moduleId, string func, string? args) =>
        Each(o => o.JobStarted(device, job, moduleId, func, args));

    public void JobEnded(string device, long job, JobResult result) => Each(o => o.JobEnded(device, job, result));

    public void Reset(string device, string reason) => Each(o => o.Reset(device, reason));

    public void LinkLost(string device, string reason) => Each(o => o.LinkLost(device, reason));

    public void StatusReported(string device, StatusReport status) => Each(o => o.StatusReported(device, status));

    public async Task ModuleLoadedAsync(string device, HeldModule held)
    {
        foreach (var observer in observers)
        {
            await observer.ModuleLoadedAsync(device, held);
        }
    }

    public void ModuleHeld(string device, HeldModule held) => Each(o => o.ModuleHeld(device, held));

    public void ModuleUnloaded(string device, string moduleId) => Each(o => o.ModuleUnloaded(device, moduleId));

    private void Each(Action<IDeviceObserver> tell)
    {
        foreach (var observer in observers)
        {
            tell(observer);
        }
    }
}
