using Wasmorch.Gateway.Api.Ops;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Api.Deploy;

/// <summary><c>deploy</c>: module bytes from the host, through the <see cref="DeployPipeline"/>.</summary>
public sealed class DeployOp(DeployPipeline pipeline) : IOpHandler
{
    public string Op => HostOps.Deploy;

    public Task<HostResponse> HandleAsync(OpContext op) => pipeline.RunAsync(op, DeploySource.ModuleBytes);
}

/// <summary><c>build_and_deploy</c>: C source compiled here, through the <see cref="DeployPipeline"/>.</summary>
public sealed class BuildAndDeployOp(DeployPipeline pipeline) : IOpHandler
{
    public string Op => HostOps.BuildAndDeploy;

    public Task<HostResponse> HandleAsync(OpContext op) => pipeline.RunAsync(op, DeploySource.CSource);
}
