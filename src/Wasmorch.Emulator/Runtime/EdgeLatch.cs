using Wasmorch.Protocol.Modules;

namespace Wasmorch.Emulator.Runtime;

/// <summary>
/// The GPIO edges one job has not yet been told of, latched from the job's start as a pin
/// interrupt would latch them: gpio_wait_edge returns a pending edge at once, so a press between
/// two waits is never missed. At most <see cref="Kept"/> per pin; older ones are dropped.
/// </summary>
public sealed class EdgeLatch : IDisposable
{
    public const int Kept = 16;

    private readonly Gpio _gpio;
    private readonly Queue<bool>[] _pins;
    private readonly AutoResetEvent _signal = new(false);

    public EdgeLatch(Gpio gpio)
    {
        _gpio = gpio;
        _pins = [.. Enumerable.Range(0, gpio.Pins).Select(_ => new Queue<bool>())];
        gpio.Changed += OnChanged;
    }

    private void OnChanged(int before, int after)
    {
        var changed = before ^ after;
        lock (_pins)
        {
            for (var pin = 0; pin < _pins.Length; pin++)
            {
                if ((changed & (1 << pin)) == 0)
                {
                    continue;
                }
                if (_pins[pin].Count == Kept)
                {
                    _pins[pin].Dequeue();
                }
                _pins[pin].Enqueue((after & (1 << pin)) != 0);
            }
        }
        _signal.Set();
    }

    /// <summary>
    /// gpio_wait_edge: the first pending or next edge of <paramref name="pin"/> in <paramref name="edges"/>
    /// (1 rising, 2 falling, 3 both; other edges of the pin are passed over): the level after it,
    /// TimedOut after <paramref name="timeoutMs"/> (negative: none), Stopped when <paramref name="stop"/>
    /// is set, Invalid for a pin or mask out of range.
    /// </summary>
    public int Wait(int pin, int edges, int timeoutMs, WaitHandle stop)
    {
        if (pin < 0 || pin >= _pins.Length || edges is < NativeAbi.EdgeRising or > NativeAbi.EdgeBoth)
        {
            return NativeAbi.Invalid;
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            lock (_pins)
            {
                while (_pins[pin].TryDequeue(out var high))
                {
                    if ((edges & (high ? NativeAbi.EdgeRising : NativeAbi.EdgeFalling)) != 0)
                    {
                        return high ? 1 : 0;
                    }
                }
            }
            var left = timeoutMs < 0 ? Timeout.Infinite : (int)Math.Max(0, timeoutMs - clock.ElapsedMilliseconds);
            var woke = WaitHandle.WaitAny([_signal, stop], left);
            if (woke == 1)
            {
                return NativeAbi.Stopped;
            }
            if (woke == WaitHandle.WaitTimeout)
            {
                return NativeAbi.TimedOut;
            }
        }
    }

    public void Dispose()
    {
        _gpio.Changed -= OnChanged;
        _signal.Dispose();
    }
}
