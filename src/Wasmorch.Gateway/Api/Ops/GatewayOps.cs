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

/// <summary>
/// <c>jobs</c>: the job history, newest first. Alone, the state file's; in a fleet, this
/// gateway's own from its state file and every other gateway's from the fleet's record, which
/// outlives the gateway that ran the job (docs/fleet.md).
/// </summary>
public sealed class JobsOp(DeviceRegistry devices, Fleet.IFleet? fleet = null) : IOpHandler
{
    public string Op => HostOps.Jobs;

    public bool AnswersForFleet => fleet is not null;

    public async Task<HostResponse> HandleAsync(OpContext op)
    {
        var device = op.Request.Device;
        var limit = Math.Clamp(op.Request.Limit ?? 20, 1, State.GatewayState.MaxJobsListed);
        if (fleet is null || op.Forwarded)
        {
            devices.RequireKnownIfNamed(device);
            return new HostResponse { Ok = true, Jobs = OwnJobs(device, limit) };
        }
        var remoteOwner = device is not null && !devices.Contains(device)
            ? await fleet.OwnerOfAsync(device, op.Ct) ?? throw await Fleet.FleetUnknownDevice.ErrorAsync(fleet, devices.Names, device, op.Ct)
            : null;
        var shared = await fleet.RecentJobsAsync(device, limit, op.Ct);
        if (shared is null)
        {
            return new HostResponse { Ok = true, Jobs = await WithoutTheFleetsRecordAsync(device, remoteOwner, limit, op.Ct) };
        }
        // This gateway's own jobs come from its state file, which has them all (also those from before it joined).
        var jobs = devices.State is null ? shared : [.. shared.Where(j => j.Gateway != fleet.GatewayName)];
        if (remoteOwner is null && devices.State is not null)
        {
            jobs.AddRange(OwnJobs(device, limit));
        }
        return new HostResponse { Ok = true, Jobs = Newest(jobs, limit) };
    }

    private List<JobRecord> OwnJobs(string? device, int limit)
    {
        if (devices.State is not { } state)
        {
            throw new GatewayException(HostErrorCodes.Unsupported, "this gateway runs without a state file, so it keeps no job history");
        }
        var jobs = state.Jobs(device, limit);
        foreach (var job in jobs)
        {
            job.Gateway = fleet?.GatewayName;
        }
        return jobs;
    }

    /// <summary>The fleet's record out of reach: this gateway's own history, and what the gateways that answer say of theirs.</summary>
    private async Task<List<JobRecord>> WithoutTheFleetsRecordAsync(string? device, string? remoteOwner, int limit, CancellationToken ct)
    {
        var request = new HostRequest { Op = HostOps.Jobs, Device = device, Limit = limit };
        if (remoteOwner is not null)
        {
            return (await fleet!.ForwardAsync(remoteOwner, request, null, ct)).Jobs ?? [];
        }
        var jobs = OwnJobs(device, limit);
        if (device is not null)
        {
            return jobs;
        }
        var others = (await fleet!.DevicesAsync(ct)).Select(d => d.Gateway).Where(g => g != fleet.GatewayName).Distinct(StringComparer.Ordinal);
        foreach (var gateway in others)
        {
            try
            {
                jobs.AddRange((await fleet.ForwardAsync(gateway, request, null, ct)).Jobs ?? []);
            }
            catch (GatewayException ex) when (ex.Code is HostErrorCodes.DeviceUnreachable or HostErrorCodes.Timeout)
            {
                // A gateway that is gone keeps its history to itself until it or the fleet's record is back.
            }
        }
        return Newest(jobs, limit);
    }

    private static List<JobRecord> Newest(List<JobRecord> jobs, int limit) =>
        [.. jobs.OrderByDescending(j => j.StartedAt, StringComparer.Ordinal).Take(limit)];
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

    /// <summary>The recent entries (<c>event: "logs"</c>), then every new one (<c>event: "log"</c>), this gateway's and, in a fleet, the other gateways' too, until the host goes away.</summary>
    public Task FollowAsync(HostRequest request, Func<HostResponse, Task> emit, CancellationToken ct) =>
        Following.StreamAsync(this, request, "logs",
            t => Following.MergeAsync(u => devices.Logs.FollowAsync(request.Device, u), fleet is null ? null : fleet.FollowLogsAsync, e => request.Device is null || e.Device == request.Device, t),
            entry => new HostResponse { Ok = true, Event = "log", Log = entry, Device = entry.Device }, emit, ct);
}
