using System.Globalization;
using System.Threading.Channels;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Devices;

/// <summary>
/// Every job of this gateway's devices as it starts and as it ends, to whoever follows (the HTTP
/// API's live stream, the dashboard): a device observer, so it sees exactly what the state file
/// records. A follower that falls behind loses its oldest events, never slows a device session.
/// </summary>
public sealed class JobFeed : IDeviceObserver
{
    private const int FollowerBuffer = 1000;
    private readonly List<Channel<JobRecord>> _followers = [];

    /// <summary>The jobs from now on, until <paramref name="ct"/> ends.</summary>
    public async IAsyncEnumerable<JobRecord> FollowAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var channel = Channel.CreateBounded<JobRecord>(new BoundedChannelOptions(FollowerBuffer) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (_followers)
        {
            _followers.Add(channel);
        }
        try
        {
            await foreach (var job in channel.Reader.ReadAllAsync(ct))
            {
                yield return job;
            }
        }
        finally
        {
            lock (_followers)
            {
                _followers.Remove(channel);
            }
        }
    }

    private void Publish(JobRecord job)
    {
        lock (_followers)
        {
            foreach (var follower in _followers)
            {
                follower.Writer.TryWrite(job);
            }
        }
    }

    private static string Now() => DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public void JobStarted(string device, long job, string moduleId, string func, string? args) =>
        Publish(new JobRecord { Device = device, Job = job, ModuleId = moduleId, Func = func, Args = args, Status = "RUNNING", StartedAt = Now() });

    public void JobEnded(string device, long job, AgentLine result) => Publish(new JobRecord
    {
        Device = device,
        Job = job,
        ModuleId = result[AgentKeys.ModuleId] ?? string.Empty,
        Func = result[AgentKeys.Func] ?? string.Empty,
        Status = result[AgentKeys.Status] ?? "?",
        Value = result[AgentKeys.Value],
        Message = result[AgentKeys.Msg],
        ElapsedUs = result.TryGetInt64(AgentKeys.ElapsedUs, out var elapsed) ? elapsed : null,
        EndedAt = Now(),
    });

    public void Mapped(string device, string endpoint)
    {
    }

    public void Connected(string device, string agent)
    {
    }

    public void Reset(string device, string reason)
    {
    }

    public void LinkLost(string device, string reason)
    {
    }

    public void StatusReported(string device, AgentLine status)
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
