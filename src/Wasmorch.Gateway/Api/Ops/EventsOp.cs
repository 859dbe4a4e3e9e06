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

    /// <summary>The recent entries (<c>event: "events"</c>), then every new one (<c>event: "published"</c>), until the host goes away.</summary>
    public async Task FollowAsync(HostRequest request, Func<HostResponse, Task> emit, CancellationToken ct)
    {
        HostResponse first;
        try
        {
            Check(request);
            first = new HostResponse { Ok = true, Events = devices.Events.Recent(request.Device, request.Topic) };
        }
        catch (GatewayException ex)
        {
            first = Replies.Failure(ex.Code, ex.Message, ex.Details);
        }
        first.Id = request.Id;
        first.Event = HostOps.Events;
        await emit(first);
        if (!first.Ok)
        {
            return;
        }
        // In a fleet, the other gateways' devices' events too (live; the recent ones are this gateway's).
        var followed = FleetFollow.MergeAsync(t => devices.Events.FollowAsync(request.Device, request.Topic, t), fleet is null ? null : fleet.FollowEventsAsync,
            e => (request.Device is null || e.Device == request.Device) && (request.Topic is null || e.Topic == request.Topic), ct);
        await foreach (var entry in followed)
        {
            await emit(new HostResponse { Id = request.Id, Ok = true, Event = "published", Published = entry, Device = entry.Device });
        }
    }

    private void Check(HostRequest request)
    {
        devices.RequireKnownIfNamed(request.Device);
        if (request.Topic is { } topic && !NativeAbi.IsValidTopic(topic))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"topic '{topic}' is not 1-32 of [A-Za-z0-9_.-/]");
        }
    }
}
