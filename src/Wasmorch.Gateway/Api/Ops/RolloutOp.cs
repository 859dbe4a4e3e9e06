using Wasmorch.Gateway.Rollouts;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Api.Ops;

/// <summary><c>rollout</c>: start, status, pause, resume or abort a staged rollout (<see cref="RolloutEngine"/>).</summary>
public sealed class RolloutOp(RolloutEngine? engine) : IOpHandler
{
    public string Op => HostOps.Rollout;

    public Task<HostResponse> HandleAsync(OpContext op) => engine is null
        ? throw new GatewayException(HostErrorCodes.Unsupported, "this gateway runs without a state file, so it cannot keep a rollout")
        : engine.HandleAsync(op.Request, op.Ct);
}
