using System.Globalization;
using Wasmorch.Protocol.Agent.Replies;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Devices;

/// <summary>What modules published (EVENT lines, docs/protocol.md §6c) on every device, for <c>events</c> and <c>events --follow</c>.</summary>
public sealed class EventHub : EntryHub<ModuleEvent>
{
    public EventHub(TimeProvider? time = null)
        : base(time)
    {
    }

    public void Add(string device, EventReport published) => Keep(new ModuleEvent
    {
        Time = Time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
        Device = device,
        ModuleId = published.ModuleId,
        Job = published.Job,
        UptimeMs = published.UptimeMs,
        Topic = published.Topic,
        Data = Convert.ToHexStringLower(published.Data),
        Text = published.Data.Length > 0 && published.Data.All(b => b is >= 0x20 and <= 0x7e) ? System.Text.Encoding.ASCII.GetString(published.Data) : null,
    });

    public List<ModuleEvent> Recent(string? device, string? topic) => Recent(e => Wanted(e, device, topic));

    public IAsyncEnumerable<ModuleEvent> FollowAsync(string? device, string? topic, CancellationToken ct) => FollowAsync(e => Wanted(e, device, topic), ct);

    private static bool Wanted(ModuleEvent entry, string? device, string? topic) =>
        (device is null || entry.Device == device) && (topic is null || entry.Topic == topic);
}
