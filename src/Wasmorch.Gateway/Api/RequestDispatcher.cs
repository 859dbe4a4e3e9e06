using System.Diagnostics;
using Wasmorch.Gateway.Api.Deploy;
using Wasmorch.Gateway.Api.Ops;
using Wasmorch.Gateway.Build;
using Wasmorch.Gateway.Config;
using Wasmorch.Gateway.Devices;
using Wasmorch.Gateway.Signing;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Api;

/// <summary>
/// Hands each host request to the handler of its op (one class per op, under Api/Ops and
/// Api/Deploy) and wraps the answer: the request's id, the device, the timing breakdown, and a
/// <see cref="GatewayException"/> turned into a failed response.
/// </summary>
public sealed class RequestDispatcher
{
    private readonly Dictionary<string, IOpHandler> _handlers;
    private readonly LogsOp _logs;

    public RequestDispatcher(DeviceRegistry devices, BuildService build, GatewayConfig config, ModuleSignatures? signatures = null)
    {
        var pipeline = new DeployPipeline(devices, build, config, signatures ?? new ModuleSignatures([]));
        _logs = new LogsOp(devices);
        IOpHandler[] handlers =
        [
            new StatusOp(devices), new StartOp(devices, config), new StopOp(devices), new DeployOp(pipeline),
            new BuildAndDeployOp(pipeline), new DevicesOp(devices), new PingOp(devices), new UnloadOp(devices),
            _logs, new ScanOp(), new JobsOp(devices),
        ];
        _handlers = handlers.ToDictionary(h => h.Op, StringComparer.Ordinal);
    }

    public async Task<HostResponse> HandleAsync(HostRequest request, CancellationToken ct, Func<HostResponse, Task>? emit = null)
    {
        var clock = Stopwatch.StartNew();
        var timing = new Timing();
        HostResponse response;
        try
        {
            if (request.Op is null)
            {
                throw new GatewayException(HostErrorCodes.BadRequest, "the request has no op");
            }
            if (!_handlers.TryGetValue(request.Op, out var handler))
            {
                throw new GatewayException(HostErrorCodes.BadRequest, $"unknown op '{request.Op}' (ops: {string.Join(", ", _handlers.Keys)})");
            }
            response = await handler.HandleAsync(new OpContext(request, timing, emit, ct));
        }
        catch (GatewayException ex)
        {
            response = Replies.Failure(ex.Code, ex.Message, ex.Details);
        }
        response.Id = request.Id;
        response.Device ??= request.Device;
        timing.GatewayMs = clock.Elapsed.TotalMilliseconds;
        response.Timing = timing;
        return response;
    }

    /// <summary><c>logs</c> with <c>follow</c>: a stream of events until the host goes away.</summary>
    public Task FollowLogsAsync(HostRequest request, Func<HostResponse, Task> emit, CancellationToken ct) => _logs.FollowAsync(request, emit, ct);
}
