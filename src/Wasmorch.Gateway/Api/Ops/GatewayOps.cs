using Wasmorch.Gateway.Devices;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Transport;
using static Wasmorch.Gateway.Api.Ops.Replies;

namespace Wasmorch.Gateway.Api.Ops;

/// <summary><c>devices</c>: the device map, with what the state file says each device holds.</summary>
public sealed class DevicesOp(DeviceRegistry devices, Fleet.IFleet? fleet = null) : IOpHandler
{
    public string Op => HostOps.Devices;

    public async Task<HostResponse> HandleAsync(OpContext op)
    {
        var list = devices.Describe();
        if (fleet is not null && !op.Forwarded)
        {
            foreach (var own in list)
            {
                own.Gateway = fleet.GatewayName;
            }
            await Fleet.FleetDevices.DescribeAsync(fleet, list, op.Ct);
        }
        return new HostResponse { Ok = true, Devices = list };
    }
}

/// <summary><c>jobs</c>: the job history of the state file, newest first; in a fleet, of every gateway that answers.</summary>
public sealed class JobsOp(DeviceRegistry devices, Fleet.IFleet? fleet = null) : IOpHandler
{
    public string Op => HostOps.Jobs;

    public async Task<HostResponse> HandleAsync(OpContext op)
    {
        devices.RequireKnownIfNamed(op.Request.Device);
        if (devices.State is not { } state)
        {
            throw new GatewayException(HostErrorCodes.Unsupported, "this gateway runs without a state file, so it keeps no job history");
        }
        var limit = op.Request.Limit ?? 20;
        var jobs = state.Jobs(op.Request.Device, limit);
        if (fleet is not null && !op.Forwarded && op.Request.Device is null)
        {
            var others = (await fleet.DevicesAsync(op.Ct)).Select(d => d.Gateway).Where(g => g != fleet.GatewayName).Distinct(StringComparer.Ordinal);
            foreach (var gateway in others)
            {
                try
                {
                    var remote = await fleet.ForwardAsync(gateway, new HostRequest { Op = HostOps.Jobs, Limit = limit }, op.Ct);
                    jobs.AddRange(remote.Jobs ?? []);
                }
                catch (GatewayException ex) when (ex.Code is HostErrorCodes.DeviceUnreachable or HostErrorCodes.Timeout)
                {
                    // A gateway that is gone keeps its history to itself until it is back.
                }
            }
            jobs = [.. jobs.OrderByDescending(j => j.StartedAt, StringComparer.Ordinal).Take(limit)];
        }
        return new HostResponse { Ok = true, Jobs = jobs };
    }
}

/// <summary><c>scan</c>: serial ports on the gateway's machine, each with the endpoint that names it.</summary>
public sealed class ScanOp : IOpHandler
{
    public string Op => HostOps.Scan;

    public Task<HostResponse> HandleAsync(OpContext op) => Task.FromResult(new HostResponse
    {
        Ok = true,
        Ports = [.. SerialPortScanner.Scan().Select(c => new SerialPortInfo
        {
            Path = c.Path,
            UsbId = c.UsbId,
            Serial = c.Serial,
            Manufacturer = c.Manufacturer,
            Product = c.Product,
            ById = c.ById,
            Endpoint = c.UsbId is null
                ? $"serial://{c.ById ?? c.Path}?baud=115200"
                : $"serial://usb/{c.UsbId}?{(c.Serial is null ? "" : $"serial={c.Serial}&")}baud=115200",
        })],
    });
}

/// <summary><c>logs</c>: the recent LOG lines of modules; with <c>follow</c>, every new one as it comes (<see cref="FollowAsync"/>).</summary>
public sealed class LogsOp(DeviceRegistry devices, Fleet.IFleet? fleet = null) : IOpHandler
{
    public string Op => HostOps.Logs;

    public async Task<HostResponse> HandleAsync(OpContext op)
    {
        devices.RequireKnownIfNamed(op.Request.Device);
        // Without a device, in a fleet: the fleet's own record, which outlives any one gateway.
        var logs = fleet is not null && !op.Forwarded && op.Request.Device is null
            ? await fleet.RecentLogsAsync(LogHub.Kept, op.Ct)
            : null;
        return new HostResponse { Ok = true, Logs = logs ?? devices.Logs.Recent(op.Request.Device) };
    }

    /// <summary>The recent entries, then every new one as an event line, until the host goes away (<paramref name="ct"/>).</summary>
    public async Task FollowAsync(HostRequest request, Func<HostResponse, Task> emit, CancellationToken ct)
    {
        HostResponse first;
        try
        {
            first = await HandleAsync(new OpContext(request, new Timing(), null, ct));
        }
        catch (GatewayException ex)
        {
            first = Failure(ex.Code, ex.Message, ex.Details);
        }
        first.Id = request.Id;
        first.Event = "logs";
        await emit(first);
        if (!first.Ok)
        {
            return;
        }
        await foreach (var entry in FollowedAsync(request.Device, ct))
        {
            await emit(new HostResponse { Id = request.Id, Ok = true, Event = "log", Log = entry, Device = entry.Device });
        }
    }

    /// <summary>This gateway's new entries and, in a fleet, the other gateways' too, as they come.</summary>
    private async IAsyncEnumerable<LogEntry> FollowedAsync(string? device, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        if (fleet is null)
        {
            await foreach (var entry in devices.Logs.FollowAsync(device, ct))
            {
                yield return entry;
            }
            yield break;
        }
        var merged = System.Threading.Channels.Channel.CreateBounded<LogEntry>(new System.Threading.Channels.BoundedChannelOptions(1000)
        {
            FullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest,
        });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var local = PumpAsync(devices.Logs.FollowAsync(device, stop.Token), merged.Writer, stop.Token);
        var remote = PumpAsync(fleet.FollowLogsAsync(stop.Token), merged.Writer, stop.Token);
        try
        {
            await foreach (var entry in merged.Reader.ReadAllAsync(ct))
            {
                if (device is null || entry.Device == device)
                {
                    yield return entry;
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(local, remote);
        }
    }

    private static async Task PumpAsync(IAsyncEnumerable<LogEntry> entries, System.Threading.Channels.ChannelWriter<LogEntry> into, CancellationToken ct)
    {
        try
        {
            await foreach (var entry in entries.WithCancellation(ct))
            {
                await into.WriteAsync(entry, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The follower went away.
        }
    }
}
