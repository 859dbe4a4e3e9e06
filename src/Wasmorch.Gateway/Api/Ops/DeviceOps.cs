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

/// <summary><c>sim</c>: SIM (docs/protocol.md §6d) on a board with simulated inputs: an input pin's level, the sensor's temperature.</summary>
public sealed class SimOp(DeviceRegistry devices) : IOpHandler
{
    public string Op => HostOps.Sim;

    public async Task<HostResponse> HandleAsync(OpContext op)
    {
        var request = op.Request;
        var device = devices.Get(request.Device);
        if ((request.Pin is null) != (request.Level is null))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, "sim sets a pin with both pin and level (0 or 1)");
        }
        if (request.Pin is null && request.TempMc is null)
        {
            throw new GatewayException(HostErrorCodes.BadRequest, "sim needs pin and level, or temp_mc");
        }
        if (request.Level is not (null or 0 or 1))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"sim level must be 0 or 1, not {request.Level}");
        }
        var sim = new AgentLineBuilder(AgentVerbs.Sim);
        if (request.Pin is { } pin)
        {
            sim.Add(AgentKeys.Pin, pin).Add(AgentKeys.Level, request.Level!.Value);
        }
        if (request.TempMc is { } temp)
        {
            sim.Add(AgentKeys.TempMc, temp);
        }
        var line = await TimedAsync(() => device.SimAsync(sim, op.Ct), op.Timing);
        return line.Verb == AgentVerbs.SimOk
            ? new HostResponse { Ok = true, Agent = line.Fields.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal) }
            : FromAgentError(line);
    }
}
