using System.Globalization;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Devices;

/// <summary>Modules' LOG lines from every device, for <c>logs</c> and <c>logs --follow</c>.</summary>
public sealed class LogHub : EntryHub<LogEntry>
{
    public LogHub(TimeProvider? time = null)
        : base(time)
    {
    }

    public void Add(string device, AgentLine line) => Keep(new LogEntry
    {
        Time = Time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
        Device = device,
        ModuleId = line[AgentKeys.ModuleId],
        Job = line.TryGetInt64(AgentKeys.Job, out var job) ? job : null,
        UptimeMs = line.TryGetInt64(AgentKeys.UptimeMs, out var uptime) ? uptime : null,
        Message = line[AgentKeys.Msg] ?? string.Empty,
    });

    public List<LogEntry> Recent(string? device) => Recent(e => device is null || e.Device == device);

    public IAsyncEnumerable<LogEntry> FollowAsync(string? device, CancellationToken ct) => FollowAsync(e => device is null || e.Device == device, ct);
}
