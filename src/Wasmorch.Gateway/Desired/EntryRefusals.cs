using System.Collections.Concurrent;
using System.Globalization;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Desired;

/// <summary>
/// Desired entries a device refused (UNSIGNED, a capability it lacks, a module too big): such a
/// refusal does not go away by asking again each second. Each is kept per device, module and
/// content, and tried again after a delay that doubles with each refusal up to <see cref="MaxDelay"/>;
/// a deploy that works, or a new desired state, forgets it. <c>diff</c> shows it on the entry's line.
/// </summary>
public sealed class EntryRefusals(Func<DateTimeOffset> now)
{
    /// <summary>The longest wait between two tries of a refused entry.</summary>
    public static TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    private sealed record Refusal(HostError Error, int Times, DateTimeOffset NextTry);

    private readonly ConcurrentDictionary<(string Device, string ModuleId, string Sha256), Refusal> _refused = new();

    /// <summary>
    /// True when <paramref name="code"/> says the device will not take this module as it is; false
    /// for what passes by itself (a link away, a board busy or restarting), tried again at the usual pace.
    /// </summary>
    public static bool IsRefusal(string? code) => code is not (null or HostErrorCodes.DeviceUnreachable or HostErrorCodes.DeviceReset
        or HostErrorCodes.Timeout or HostErrorCodes.TooManyConnections or Protocol.Agent.AgentErrorCodes.Busy);

    /// <summary>Records a refusal; true when it is the first of this entry on this device, or says something new (worth a warning).</summary>
    public bool Refused(string device, DesiredEntry entry, HostError error, TimeSpan firstDelay)
    {
        var key = (device, entry.ModuleId, entry.Sha256);
        var before = _refused.TryGetValue(key, out var known) ? known : null;
        var times = (before?.Times ?? 0) + 1;
        var delay = TimeSpan.FromTicks((long)Math.Min(MaxDelay.Ticks, firstDelay.Ticks * Math.Pow(2, Math.Min(times - 1, 30))));
        _refused[key] = new Refusal(error, times, now() + delay);
        return before is null || before.Error.Code != error.Code || before.Error.Message != error.Message;
    }

    /// <summary>The entry deployed after all: nothing to hold back any more.</summary>
    public void Cleared(string device, DesiredEntry entry) => _refused.TryRemove((device, entry.ModuleId, entry.Sha256), out _);

    /// <summary>A new desired state: every entry gets its chance again.</summary>
    public void Clear() => _refused.Clear();

    /// <summary>When the entry may be tried again (null: now, it was not refused or its wait is over).</summary>
    public DateTimeOffset? HeldUntil(string device, DesiredEntry entry) =>
        _refused.TryGetValue((device, entry.ModuleId, entry.Sha256), out var refusal) && refusal.NextTry > now() ? refusal.NextTry : null;

    /// <summary>The refusal as a plan shows it: the device's error, how often, and when it is tried again; null when not refused.</summary>
    public HostError? Describe(string device, DesiredEntry entry)
    {
        if (!_refused.TryGetValue((device, entry.ModuleId, entry.Sha256), out var refusal))
        {
            return null;
        }
        var wait = refusal.NextTry - now();
        return new HostError
        {
            Code = refusal.Error.Code,
            Message = refusal.Error.Message + string.Create(CultureInfo.InvariantCulture,
                $" (refused {refusal.Times} time(s); {(wait > TimeSpan.Zero ? $"tried again in {Math.Ceiling(wait.TotalSeconds):0} s" : "tried again now")})"),
            Details = refusal.Error.Details,
        };
    }
}
