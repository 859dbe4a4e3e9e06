using System.Globalization;
using Wasmorch.Protocol.Modules;

namespace Wasmorch.Emulator.Peripherals;

/// <summary>The emulated PWM outputs: what each channel was last set to, shown in STATUS as <c>pwm=ch:period_us:pulse_us,…</c>.</summary>
public sealed class PwmChannels
{
    public const int Count = 4;

    /// <summary>Longest period a channel takes: one second.</summary>
    public const int MaxPeriodUs = 1_000_000;

    private readonly (int Period, int Pulse)?[] _channels = new (int, int)?[Count];

    public int Set(int channel, int periodUs, int pulseUs)
    {
        if (channel is < 0 or >= Count || periodUs is < 1 or > MaxPeriodUs || pulseUs < 0 || pulseUs > periodUs)
        {
            return NativeAbi.Invalid;
        }
        lock (_channels)
        {
            _channels[channel] = (periodUs, pulseUs);
        }
        return 0;
    }

    /// <summary>The channels set so far, or null when none was.</summary>
    public string? Status()
    {
        lock (_channels)
        {
            var set = _channels.Select((c, i) => c is { } v ? string.Create(CultureInfo.InvariantCulture, $"{i}:{v.Period}:{v.Pulse}") : null).OfType<string>().ToList();
            return set.Count == 0 ? null : string.Join(',', set);
        }
    }
}
