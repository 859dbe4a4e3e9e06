using Wasmorch.Gateway.Devices;
using Wasmorch.Protocol.Agent.Replies;
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
        var reply = await TimedAsync(() => device.StatusAsync(op.Ct), op.Timing);
        if (reply.Value is not { } status)
        {
            return FromAgentError(reply.Error!);
        }
        return new HostResponse
        {
            Ok = true,
            Status = status.State,
            ModuleId = status.ModuleId,
            Func = status.Func,
            Job = status.Job,
            Agent = Fields(status.Fields),
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
        var reply = await TimedAsync(() => device.PingAsync(op.Ct), op.Timing);
        return reply.Value is { } pong
            ? new HostResponse { Ok = true, Status = "ALIVE", Agent = Fields(pong.Fields) }
            : FromAgentError(reply.Error!);
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
        var reply = await TimedAsync(() => device.StopAsync(moduleId, op.Ct), op.Timing);
        return reply.Value is { } stopped
            ? new HostResponse { Ok = true, ModuleId = moduleId, Status = stopped.Status, Job = stopped.Job }
            : FromAgentError(reply.Error!);
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
        var refused = await TimedAsync(() => device.UnloadAsync(moduleId, op.Ct), op.Timing);
        return refused is null
            ? new HostResponse { Ok = true, ModuleId = moduleId, Status = "UNLOADED" }
            : FromAgentError(refused);
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
        var reply = await TimedAsync(() => device.SimAsync(new SimInputs(request.Pin, request.Level, request.TempMc), op.Ct), op.Timing);
        return reply.Value is { } set
            ? new HostResponse { Ok = true, Agent = Fields(set.Fields) }
            : FromAgentError(reply.Error!);
    }
}
