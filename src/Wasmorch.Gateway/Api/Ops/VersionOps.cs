using Wasmorch.Gateway.Api.Deploy;
using Wasmorch.Gateway.Devices;
using Wasmorch.Gateway.State;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;
using static Wasmorch.Gateway.Api.Ops.Replies;

namespace Wasmorch.Gateway.Api.Ops;

/// <summary><c>history</c>: the versions of a module id this gateway deployed, newest first, with the devices holding each.</summary>
public sealed class HistoryOp(DeviceRegistry devices) : IOpHandler
{
    public string Op => HostOps.History;

    public async Task<HostResponse> HandleAsync(OpContext op)
    {
        var moduleId = RequireModuleId(op.Request);
        devices.RequireKnownIfNamed(op.Request.Device);
        var record = VersionRecord.Of(devices);
        // Versions are written behind the deploys' answers: read them once written.
        await record.FlushAsync();
        var versions = record.Versions(moduleId);
        if (op.Request.Device is { } device)
        {
            versions = [.. versions.Where(v => v.Devices!.Contains(device))];
        }
        return new HostResponse { Ok = true, ModuleId = moduleId, Versions = versions };
    }
}

/// <summary>
/// <c>rollback</c>: the version of a module id before the one the device holds (or
/// <c>version</c>, or the one with <c>sha256</c>), deployed from the gateway's own record of it: nothing is built again.
/// </summary>
public sealed class RollbackOp(DeviceRegistry devices, DeployPipeline pipeline) : IOpHandler
{
    public string Op => HostOps.Rollback;

    public async Task<HostResponse> HandleAsync(OpContext op)
    {
        var moduleId = RequireModuleId(op.Request);
        var device = devices.Get(op.Request.Device);
        var record = VersionRecord.Of(devices);
        await record.FlushAsync();
        var versions = record.Versions(moduleId);
        if (versions.Count == 0)
        {
            throw new GatewayException(AgentErrorCodes.NoModule, $"no version of '{moduleId}' was deployed through this gateway");
        }
        var current = versions.FirstOrDefault(v => v.Devices!.Contains(device.Name));
        ModuleVersion target;
        if (op.Request.Sha256 is { } sha256)
        {
            target = versions.FirstOrDefault(v => v.Sha256 == sha256)
                ?? throw new GatewayException(AgentErrorCodes.NoModule, $"'{moduleId}' has no version with SHA-256 {sha256} on this gateway");
        }
        else if (op.Request.Version is { } wanted)
        {
            target = versions.FirstOrDefault(v => v.Version == wanted)
                ?? throw new GatewayException(HostErrorCodes.BadRequest, $"'{moduleId}' has no version {wanted} (it has 1 to {versions[0].Version})");
        }
        else
        {
            if (current is null)
            {
                throw new GatewayException(AgentErrorCodes.NoModule,
                    $"device '{device.Name}' holds no version of '{moduleId}' that this gateway deployed; say which to put back (--to N, history lists them)");
            }
            target = versions.FirstOrDefault(v => v.Version < current.Version)
                ?? throw new GatewayException(AgentErrorCodes.NoModule, $"device '{device.Name}' holds version {current.Version} of '{moduleId}', the first: there is none before it");
        }
        var response = await pipeline.RunAsync(op, DeploySource.Stored, target);
        if (response.Ok)
        {
            response.Message = current is null ? null : $"from version {current.Version}";
        }
        return response;
    }
}

/// <summary>The state file's version record, or why there is none.</summary>
internal static class VersionRecord
{
    public static GatewayState Of(DeviceRegistry devices) => devices.State
        ?? throw new GatewayException(HostErrorCodes.Unsupported, "this gateway runs without a state file, so it keeps no module versions");
}
