using Wasmorch.Gateway.Devices;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Protocol.Modules;

namespace Wasmorch.Gateway.Api.Ops;

/// <summary>
/// <c>events</c>: what modules published (EVENT lines, docs/protocol.md §6c) on this gateway's
/// devices, optionally of one device or topic; with <c>follow</c>, every new one as it comes, in a
/// fleet from every gateway's devices.
/// </summary>
public sealed class EventsOp(DeviceRegistry devices, Fleet.IFleet? fleet = null) : IOpHandler
{
    public string Op => HostOps.Events;

    public Task<HostResponse> HandleAsync(OpContext op)
    {
        Check(op.Request);
        return Task.FromResult(new HostResponse { Ok = true, Events = devices.Events.Recent(op.Request.Device, op.Request.Topic) });
    }

    /// <summary>
    /// The recent entries (<c>event: "events"</c>), then every new one (<c>event: "published"</c>), until
    /// the host goes away; in a fleet the other gateways' devices' events too (live; the recent ones are
    /// this gateway's).
    /// </summary>
    public Task FollowAsync(HostRequest request, Func<HostResponse, Task> emit, CancellationToken ct) =>
        Following.StreamAsync(this, request, HostOps.Events,
            t => Following.MergeAsync(u => devices.Events.FollowAsync(request.Device, request.Topic, u), fleet is null ? null : fleet.FollowEventsAsync,
                e => (request.Device is null || e.Device == request.Device) && (request.Topic is null || e.Topic == request.Topic), t),
            entry => new HostResponse { Ok = true, Event = "published", Published = entry, Device = entry.Device }, emit, ct);

    private void Check(HostRequest request)
    {
        devices.RequireKnownIfNamed(request.Device);
        if (request.Topic is { } topic && !NativeAbi.IsValidTopic(topic))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"topic '{topic}' is not 1-32 of [A-Za-z0-9_.-/]");
        }
    }
}
