using Wasmorch.Gateway.Config;
using Wasmorch.Gateway.Devices;
using Wasmorch.Gateway.Fleet;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Agent.Replies;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Operations;

/// <summary>
/// <see cref="IDeviceOperations"/> wherever the device is. A device on this gateway's link is driven
/// through its session (STATUS, START and UNLOAD typed end to end) or this gateway's own handlers
/// (a deploy's checks, the version record, the job record); a device of another gateway of the fleet
/// is asked of that gateway over the fleet (<see cref="RemoteDeviceOperations"/>). Failures come back
/// as typed errors, never as exceptions, except cancellation.
/// </summary>
public sealed class DeviceOperations(DeviceRegistry devices, GatewayConfig config, IFleet? fleet) : IDeviceOperations
{
    private readonly RemoteDeviceOperations? _remote = fleet is null ? null : new RemoteDeviceOperations(fleet);

    /// <summary>How this gateway serves a host API request for one of its own devices (its dispatcher, without fleet forwarding).</summary>
    public Func<HostRequest, CancellationToken, Task<HostResponse>>? ServeHere { get; set; }

    public Task<DeviceResult<StatusReport>> StatusAsync(string device, CancellationToken ct) =>
        RouteAsync(device,
            async () =>
            {
                var reply = await devices.Get(device).StatusAsync(ct);
                return reply.Value is { } status ? status : Refused(reply.Error!);
            },
            owner => _remote!.StatusAsync(owner, device, ct), ct);

    public Task<DeviceResult<JobRun>> RunAsync(JobCall job, CancellationToken ct) =>
        RouteAsync(job.Device, () => RunHereAsync(job, ct), owner => _remote!.RunAsync(owner, job, ct), ct);

    private async Task<DeviceResult<JobRun>> RunHereAsync(JobCall call, CancellationToken ct)
    {
        if (!ModuleId.IsValid(call.ModuleId) || !ModuleId.IsValidFunctionName(call.Func) || !FuncArgs.TryParse(call.Args, out _, out _))
        {
            return new HostError { Code = HostErrorCodes.BadRequest, Message = $"not a call: {call.ModuleId}.{call.Func}({call.Args})" };
        }
        var device = devices.Get(call.Device);
        var started = await device.StartAsync(call.ModuleId, call.Func, call.Args, ct);
        if (started.Job is not { } job)
        {
            return Refused(started.Refusal!);
        }
        if (!call.Wait)
        {
            return new JobRun(job, null);
        }
        return new JobRun(job, await started.WaitForResultAsync(job, call.Timeout ?? config.DefaultResultTimeout, ct));
    }

    public Task<DeviceResult<ModuleRemoved>> UnloadAsync(string device, string moduleId, CancellationToken ct) =>
        RouteAsync(device,
            async () => await devices.Get(device).UnloadAsync(moduleId, ct) is { } refused ? Refused(refused) : new ModuleRemoved(moduleId),
            owner => _remote!.UnloadAsync(owner, device, moduleId, ct), ct);

    public Task<DeviceResult<ModulePlaced>> DeployAsync(ModuleDeploy deploy, CancellationToken ct)
    {
        var request = HostApiRequests.Deploy(deploy);
        return RouteAsync(deploy.Device,
            async () => HostApiRequests.Placed(await ServeAsync(request, ct)),
            owner => _remote!.PlaceAsync(owner, request, ct), ct);
    }

    public Task<DeviceResult<ModulePlaced>> RollbackAsync(string device, string moduleId, string sha256, string by, CancellationToken ct)
    {
        var request = new HostRequest { Op = HostOps.Rollback, Device = device, ModuleId = moduleId, Sha256 = sha256, By = by };
        return RouteAsync(device,
            async () => HostApiRequests.Placed(await ServeAsync(request, ct)),
            owner => _remote!.PlaceAsync(owner, request, ct), ct);
    }

    public Task<DeviceResult<IReadOnlyList<JobRecord>>> JobsAsync(string device, int limit, CancellationToken ct)
    {
        var request = new HostRequest { Op = HostOps.Jobs, Device = device, Limit = limit };
        return RouteAsync(device,
            async () => HostApiRequests.Jobs(await ServeAsync(request, ct)),
            owner => _remote!.JobsAsync(owner, request, ct), ct);
    }

    public Task<DeviceResult<IReadOnlyList<ModuleVersion>>> HistoryAsync(string device, string moduleId, CancellationToken ct)
    {
        var request = new HostRequest { Op = HostOps.History, Device = device, ModuleId = moduleId };
        return RouteAsync(device,
            async () => HostApiRequests.Versions(await ServeAsync(request, ct)),
            owner => _remote!.HistoryAsync(owner, request, ct), ct);
    }

    private Task<HostResponse> ServeAsync(HostRequest request, CancellationToken ct) =>
        (ServeHere ?? throw new InvalidOperationException("DeviceOperations.ServeHere is not set"))(request, ct);

    /// <summary>Here when the device is this gateway's, else at the gateway of the fleet that owns it; a <see cref="GatewayException"/> becomes the typed error.</summary>
    private async Task<DeviceResult<T>> RouteAsync<T>(string device, Func<Task<DeviceResult<T>>> here, Func<string, Task<DeviceResult<T>>> there, CancellationToken ct)
    {
        try
        {
            if (devices.Contains(device) || fleet is null)
            {
                return await here();
            }
            var owner = await fleet.OwnerOfAsync(device, ct);
            if (owner is null || owner == fleet.GatewayName)
            {
                // Neither this gateway's nor claimed by another: Get names what is known.
                devices.Get(device);
                return await here();
            }
            return await there(owner);
        }
        catch (GatewayException ex)
        {
            return new HostError { Code = ex.Code, Message = ex.Message, Details = ex.Details };
        }
    }

    private static HostError Refused(AgentError refused) => new() { Code = refused.Code, Message = refused.Message };
}
