using System.Globalization;
using Wasmorch.Protocol.Agent.Replies;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Devices;

/// <summary>Modules' LOG lines from every device, for <c>logs</c> and <c>logs --follow</c>.</summary>
public sealed class LogHub : EntryHub<LogEntry>
{
    public LogHub(TimeProvider? time = null)
        : base(time)
    {
    }

    public void Add(string device, LogReport log) => Keep(new LogEntry
    {
        Time = Time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
        Device = device,
        ModuleId = log.ModuleId,
        Job = log.Job,
        UptimeMs = log.UptimeMs,
        Message = log.Message,
    });

    public List<LogEntry> Recent(string? device) => Recent(e => device is null || e.Device == device);

    public IAsyncEnumerable<LogEntry> FollowAsync(string? device, CancellationToken ct) => FollowAsync(e => device is null || e.Device == device, ct);
}
