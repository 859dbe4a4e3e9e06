using System.Globalization;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Devices;

/// <summary>What modules published (EVENT lines, docs/protocol.md §6c) on every device, for <c>events</c> and <c>events --follow</c>.</summary>
public sealed class EventHub : EntryHub<ModuleEvent>
{
    public EventHub(TimeProvider? time = null)
        : base(time)
    {
    }

    /// <summary>Keeps a well-formed EVENT line; false (nothing kept) for one that is not.</summary>
    public bool Add(string device, AgentLine line)
    {
        var data = EventLine.Data(line);
        if (data is null || line[AgentKeys.ModuleId] is not { } moduleId || line[AgentKeys.Topic] is not { } topic
            || !line.TryGetInt64(AgentKeys.Job, out var job) || !line.TryGetInt64(AgentKeys.UptimeMs, out var uptime))
        {
            return false;
        }
        Keep(new ModuleEvent
        {
            Time = Time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
            Device = device,
            ModuleId = moduleId,
            Job = job,
            UptimeMs = uptime,
            Topic = topic,
            Data = Convert.ToHexStringLower(data),
            Text = data.Length > 0 && data.All(b => b is >= 0x20 and <= 0x7e) ? System.Text.Encoding.ASCII.GetString(data) : null,
        });
        return true;
    }

    public List<ModuleEvent> Recent(string? device, string? topic) => Recent(e => Wanted(e, device, topic));

    public IAsyncEnumerable<ModuleEvent> FollowAsync(string? device, string? topic, CancellationToken ct) => FollowAsync(e => Wanted(e, device, topic), ct);

    private static bool Wanted(ModuleEvent entry, string? device, string? topic) =>
        (device is null || entry.Device == device) && (topic is null || entry.Topic == topic);
}
