using System.Collections.Concurrent;
using Wasmorch.Gateway.Devices;
using Wasmorch.Gateway.State;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Agent.Replies;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Fleet;

/// <summary>
/// Tells the fleet about every job of this gateway's devices as it starts and as it ends, so that
/// <c>wasmorch jobs</c> on any gateway sees it, also once this gateway is gone (docs/fleet.md).
/// The state file keeps the same record for this gateway; this is the fleet's copy.
/// </summary>
public sealed class FleetJobRecorder(IFleet fleet) : IDeviceObserver
{
    /// <summary>Jobs started and not yet ended, by device and job number: the record an end completes.</summary>
    private readonly ConcurrentDictionary<(string Device, long Job), JobRecord> _open = new();

    public void JobStarted(string device, long job, string moduleId, string func, string? args)
    {
        var record = new JobRecord
        {
            Device = device,
            Job = job,
            ModuleId = moduleId,
            Func = func,
            Args = args,
            Status = "RUNNING",
            StartedAt = GatewayState.Now(),
            Gateway = fleet.GatewayName,
        };
        _open[(device, job)] = record;
        fleet.PublishJob(record);
    }

    public void JobEnded(string device, long job, JobResult result)
    {
        if (!_open.TryRemove((device, job), out var started))
        {
            // Started before this gateway joined the fleet: the state file has it, the fleet does not.
            return;
        }
        fleet.PublishJob(Ended(started, result.StatusText, result.Value?.Text, result.Message, result.ElapsedUs));
    }

    public void Reset(string device, string reason)
    {
        foreach (var key in _open.Keys.Where(k => k.Device == device))
        {
            if (_open.TryRemove(key, out var started))
            {
                fleet.PublishJob(Ended(started, "DEVICE_RESET", null, reason, null));
            }
        }
    }

    public void LinkLost(string device, string reason)
    {
        // Kept open: the job's RESULT may still come once the link is back, as in the state file.
        foreach (var (key, started) in _open.Where(o => o.Key.Device == device))
        {
            fleet.PublishJob(Ended(started, "LOST", null, "the link dropped while the job ran: " + reason, null));
        }
    }

    private static JobRecord Ended(JobRecord started, string status, string? value, string? message, long? elapsedUs) => new()
    {
        Device = started.Device,
        Job = started.Job,
        ModuleId = started.ModuleId,
        Func = started.Func,
        Args = started.Args,
        StartedAt = started.StartedAt,
        Gateway = started.Gateway,
        Status = status,
        Value = value,
        Message = message,
        ElapsedUs = elapsedUs,
        EndedAt = GatewayState.Now(),
    };

    public void Mapped(string device, string endpoint)
    {
    }

    public void Connected(string device, string agent)
    {
    }

    public void StatusReported(string device, StatusReport status)
    {
    }

    public Task ModuleLoadedAsync(string device, HeldModule held) => Task.CompletedTask;

    public void ModuleHeld(string device, HeldModule held)
    {
    }

    public void ModuleUnloaded(string device, string moduleId)
    {
    }
}
