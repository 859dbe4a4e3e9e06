using System.Diagnostics;
using Wasmorch.Gateway.Api.Deploy;
using Wasmorch.Gateway.Api.Ops;
using Wasmorch.Gateway.Build;
using Wasmorch.Gateway.Config;
using Wasmorch.Gateway.Devices;
using Wasmorch.Gateway.Fleet;
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
    private readonly EventsOp _events;
    private readonly DeviceRegistry _devices;
    private readonly IFleet? _fleet;
    private readonly Telemetry.GatewayMetrics? _metrics;

    public RequestDispatcher(DeviceRegistry devices, BuildService build, GatewayConfig config, ModuleSignatures? signatures = null, IFleet? fleet = null, Desired.Reconciler? reconciler = null, Rollouts.RolloutEngine? rollouts = null, Telemetry.GatewayMetrics? metrics = null)
    {
        _metrics = metrics;
        _devices = devices;
        _fleet = fleet;
        var pipeline = new DeployPipeline(devices, build, config, signatures ?? new ModuleSignatures([]));
        _logs = new LogsOp(devices, fleet);
        _events = new EventsOp(devices, fleet);
        IOpHandler[] handlers =
        [
            new StatusOp(devices), new StartOp(devices, config), new StopOp(devices), new DeployOp(pipeline),
            new BuildAndDeployOp(pipeline), new DevicesOp(devices, fleet), new PingOp(devices), new UnloadOp(devices),
            _logs, new ScanOp(), new JobsOp(devices, fleet), new HistoryOp(devices), new RollbackOp(devices, pipeline),
            new ApplyOp(devices, build, reconciler, fleet), new DiffOp(devices, reconciler, fleet), new RolloutOp(rollouts, fleet),
            _events, new SimOp(devices),
        ];
        _handlers = handlers.ToDictionary(h => h.Op, StringComparer.Ordinal);
        Ops = [.. _handlers.Keys];
    }

    /// <summary>Every op this gateway answers.</summary>
    public IReadOnlyList<string> Ops { get; }

    public Task<HostResponse> HandleAsync(HostRequest request, CancellationToken ct, Func<HostResponse, Task>? emit = null) =>
        HandleAsync(request, forwardable: true, emit, ct);

    /// <summary>A request of a host (host API over TCP or HTTP): what it says of its user is marked as claimed.</summary>
    public Task<HostResponse> HandleFromHostAsync(HostRequest request, CancellationToken ct, Func<HostResponse, Task>? emit = null)
    {
        request.By = Provenance.Claimed(request.By);
        return HandleAsync(request, forwardable: true, emit, ct);
    }

    /// <summary>A request of this gateway's own services (the device operations) for one of its own devices: never forwarded.</summary>
    public Task<HostResponse> ServeHereAsync(HostRequest request, CancellationToken ct) => HandleAsync(request, forwardable: false, null, ct);

    /// <summary>A request another gateway of the fleet forwarded here: served with this gateway's own devices only.</summary>
    public Task<HostResponse> HandleForwardedAsync(HostRequest request, Func<HostResponse, Task> emit, CancellationToken ct) =>
        HandleAsync(request, forwardable: false, emit, ct);

    private async Task<HostResponse> HandleAsync(HostRequest request, bool forwardable, Func<HostResponse, Task>? emit, CancellationToken ct)
    {
        using var inFlight = _metrics?.Begin() ?? default;
        using var span = Telemetry.GatewayTracing.StartRequest(request);
        var response = await AnswerAsync(request, forwardable, emit, ct);
        _metrics?.Answered(request, response);
        Telemetry.GatewayTracing.Answered(span, response);
        return response;
    }

    private async Task<HostResponse> AnswerAsync(HostRequest request, bool forwardable, Func<HostResponse, Task>? emit, CancellationToken ct)
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
            if (forwardable && !handler.AnswersForFleet && await RemoteOwnerAsync(request, ct) is { } owner)
            {
                // Location transparency: the owner answers with its own fields, codes and timing.
                response = await _fleet!.ForwardAsync(owner, request, emit is null ? null : e =>
                {
                    e.Gateway = owner;
                    return emit(e);
                }, ct);
                response.Gateway = owner;
                response.Id = request.Id;
                response.Timing ??= timing;
                response.Timing.GatewayMs = clock.Elapsed.TotalMilliseconds;
                return response;
            }
            response = await handler.HandleAsync(new OpContext(request, timing, emit, ct) { Forwarded = !forwardable });
        }
        catch (GatewayException ex) when (ex.Code == HostErrorCodes.UnknownDevice && forwardable && _fleet is not null && request.Device is { Length: > 0 } named && !_devices.Contains(named))
        {
            // In a fleet a device is any gateway's: the error names the fleet's, not only this map's.
            var unknown = await Fleet.FleetUnknownDevice.ErrorAsync(_fleet, _devices.Names, named, ct);
            response = Replies.Failure(unknown.Code, unknown.Message, ex.Details);
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

    /// <summary>The fleet gateway that owns the request's device, when the device is not this gateway's own.</summary>
    private async Task<string?> RemoteOwnerAsync(HostRequest request, CancellationToken ct)
    {
        if (_fleet is null || request.Device is not { Length: > 0 } device || _devices.Contains(device))
        {
            return null;
        }
        var owner = await _fleet.OwnerOfAsync(device, ct);
        return owner == _fleet.GatewayName ? null : owner;
    }

    /// <summary>True for the requests answered as a stream (<see cref="FollowAsync"/>): <c>logs</c> and <c>events</c> with <c>follow</c>.</summary>
    public static bool IsFollow(HostRequest request) => request.Follow && request.Op is HostOps.Logs or HostOps.Events;

    public Task FollowAsync(HostRequest request, Func<HostResponse, Task> emit, CancellationToken ct) =>
        request.Op == HostOps.Events ? _events.FollowAsync(request, emit, ct) : _logs.FollowAsync(request, emit, ct);
}
