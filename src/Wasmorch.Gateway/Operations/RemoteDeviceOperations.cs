using Wasmorch.Gateway.Fleet;
using Wasmorch.Protocol.Agent.Replies;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Operations;

/// <summary>
/// A device owned by another gateway of the fleet: each operation is that gateway's host API op,
/// asked over the fleet (signed and answered by it, docs/fleet.md), and its answer typed again.
/// </summary>
internal sealed class RemoteDeviceOperations(IFleet fleet)
{
    private Task<HostResponse> AskAsync(string owner, HostRequest request, CancellationToken ct) => fleet.ForwardAsync(owner, request, null, ct);

    public async Task<DeviceResult<StatusReport>> StatusAsync(string owner, string device, CancellationToken ct) =>
        HostApiRequests.Status(await AskAsync(owner, new HostRequest { Op = HostOps.Status, Device = device }, ct));

    public async Task<DeviceResult<JobRun>> RunAsync(string owner, JobCall call, CancellationToken ct) =>
        HostApiRequests.Run(await AskAsync(owner, new HostRequest
        {
            Op = HostOps.Start, Device = call.Device, ModuleId = call.ModuleId, Func = call.Func, Args = call.Args,
            WaitResult = call.Wait, TimeoutMs = call.Timeout is { } timeout ? (int)Math.Min(timeout.TotalMilliseconds, int.MaxValue) : null,
        }, ct), call.Wait);

    public async Task<DeviceResult<ModuleRemoved>> UnloadAsync(string owner, string device, string moduleId, CancellationToken ct) =>
        HostApiRequests.Removed(await AskAsync(owner, new HostRequest { Op = HostOps.Unload, Device = device, ModuleId = moduleId }, ct));

    public async Task<DeviceResult<ModulePlaced>> PlaceAsync(string owner, HostRequest deployOrRollback, CancellationToken ct) =>
        HostApiRequests.Placed(await AskAsync(owner, deployOrRollback, ct));

    public async Task<DeviceResult<IReadOnlyList<JobRecord>>> JobsAsync(string owner, HostRequest request, CancellationToken ct) =>
        HostApiRequests.Jobs(await AskAsync(owner, request, ct));

    public async Task<DeviceResult<IReadOnlyList<ModuleVersion>>> HistoryAsync(string owner, HostRequest request, CancellationToken ct) =>
        HostApiRequests.Versions(await AskAsync(owner, request, ct));
}
