namespace Wasmorch.Emulator.Peripherals;

/// <summary>
/// A token bucket per job (docs/protocol.md §6c): <see cref="Burst"/> events at once, then
/// <see cref="PerSecond"/> a second, so a module publishing in a tight loop cannot fill the link
/// that STATUS and STOP travel on. An event over the rate is dropped and counted.
/// </summary>
public sealed class EventBucket
{
    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private double _tokens;
    private long _last;

    public EventBucket(int perSecond, int burst, TimeProvider? time = null)
    {
        PerSecond = perSecond;
        Burst = burst;
        _time = time ?? TimeProvider.System;
        _tokens = burst;
        _last = _time.GetTimestamp();
    }

    public int PerSecond { get; }

    public int Burst { get; }

    public bool TryTake()
    {
        lock (_gate)
        {
            var now = _time.GetTimestamp();
            _tokens = Math.Min(Burst, _tokens + _time.GetElapsedTime(_last, now).TotalSeconds * PerSecond);
            _last = now;
            if (_tokens < 1)
            {
                return false;
            }
            _tokens -= 1;
            return true;
        }
    }
}
