using Wasmorch.Gateway.Devices;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Protocol.Modules;

namespace Wasmorch.Gateway.Api.Ops;

/// <summary>
/// <c>events</c>: what modules published (EVENT lines, docs/protocol.md §6c) on this gateway's
/// devices, optionally of one device or topic; with <c>follow</c>, every new one as it comes.
/// </summary>
public sealed class EventsOp(DeviceRegistry devices) : IOpHandler
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
        await foreach (var entry in devices.Events.FollowAsync(request.Device, request.Topic, ct))
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
