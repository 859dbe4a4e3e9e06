using Wasmorch.Gateway.Devices;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;
using static Wasmorch.Gateway.Api.Ops.Replies;

namespace Wasmorch.Gateway.Api.Ops;

/// <summary><c>status</c>: the agent's STATUS, and what it offered in HELLO_OK.</summary>
public sealed class StatusOp(DeviceRegistry devices) : IOpHandler
{
    public string Op => HostOps.Status;

    public async Task<HostResponse> HandleAsync(OpContext op)
    {
        var device = devices.Get(op.Request.Device);
        var line = await TimedAsync(() => device.StatusAsync(op.Ct), op.Timing);
        if (line.Verb != AgentVerbs.Status)
        {
            return FromAgentError(line);
        }
        return new HostResponse
        {
            Ok = true,
            Status = line[AgentKeys.State],
            ModuleId = Dash(line[AgentKeys.Module]),
            Func = Dash(line[AgentKeys.Func]),
            Job = line.TryGetInt64(AgentKeys.Job, out var job) ? job : null,
            Agent = Fields(line),
            Capabilities = device.Capabilities is { } capabilities ? new Dictionary<string, string>(capabilities.Fields) : null,
        };
    }
}

/// <summary><c>ping</c>: PING where offered, else STATUS.</summary>
public sealed class PingOp(DeviceRegistry devices) : IOpHandler
{
    public string Op => HostOps.Ping;

    public async Task<HostResponse> HandleAsync(OpContext op)
    {
        var device = devices.Get(op.Request.Device);
        var line = await TimedAsync(() => device.PingAsync(op.Ct), op.Timing);
        return line.Verb == AgentVerbs.Err
            ? FromAgentError(line)
            : new HostResponse { Ok = true, Status = "ALIVE", Agent = Fields(line) };
    }
}

/// <summary><c>stop</c>: STOP; PENDING (the job's RESULT follows) or IDLE.</summary>
public sealed class StopOp(DeviceRegistry devices) : IOpHandler
{
    public string Op => HostOps.Stop;

    public async Task<HostResponse> HandleAsync(OpContext op)
    {
        var device = devices.Get(op.Request.Device);
        var moduleId = RequireModuleId(op.Request);
        var line = await TimedAsync(() => device.StopAsync(moduleId, op.Ct), op.Timing);
        if (line.Verb != AgentVerbs.StopOk)
        {
            return FromAgentError(line);
        }
        return new HostResponse
        {
            Ok = true,
            ModuleId = moduleId,
            Status = line[AgentKeys.Status],
            Job = line.TryGetInt64(AgentKeys.Job, out var job) ? job : null,
        };
    }
}

/// <summary><c>unload</c>: UNLOAD where the agent offers it.</summary>
public sealed class UnloadOp(DeviceRegistry devices) : IOpHandler
{
    public string Op => HostOps.Unload;

    public async Task<HostResponse> HandleAsync(OpContext op)
    {
        var device = devices.Get(op.Request.Device);
        var moduleId = RequireModuleId(op.Request);
        var line = await TimedAsync(() => device.UnloadAsync(moduleId, op.Ct), op.Timing);
        return line.Verb == AgentVerbs.UnloadOk
            ? new HostResponse { Ok = true, ModuleId = moduleId, Status = "UNLOADED" }
            : FromAgentError(line);
    }
}
