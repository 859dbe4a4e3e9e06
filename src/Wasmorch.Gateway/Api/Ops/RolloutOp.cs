using Wasmorch.Gateway.Fleet;
using Wasmorch.Gateway.Rollouts;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Api.Ops;

/// <summary>
/// <c>rollout</c>: start, status, pause, resume or abort a staged rollout (<see cref="RolloutEngine"/>).
/// In a fleet, all but start go to the gateway that coordinates the fleet's rollouts, wherever they are asked.
/// </summary>
public sealed class RolloutOp(RolloutEngine? engine, IFleet? fleet) : IOpHandler
{
    public string Op => HostOps.Rollout;

    public async Task<HostResponse> HandleAsync(OpContext op)
    {
        if (engine is null)
        {
            throw new GatewayException(HostErrorCodes.Unsupported, "this gateway runs without a state file, so it cannot keep a rollout");
        }
        if (fleet is not null && !op.Forwarded && op.Request.Action != "start"
            && await fleet.RolloutCoordinatorAsync(op.Ct) is { } coordinator && coordinator != fleet.GatewayName)
        {
            var answer = await fleet.ForwardAsync(coordinator, op.Request, null, op.Ct);
            answer.Gateway = coordinator;
            return answer;
        }
        return await engine.HandleAsync(op.Request, op.Ct);
    }
}
