using Wasmorch.Protocol.Modules;

namespace Wasmorch.Emulator.Runtime;

/// <summary>The board's GPIO pins, observable through STATUS (<c>gpio=</c> levels, <c>gpio_writes=</c> count).</summary>
public sealed class Gpio
{
    private readonly int _pins;
    private int _levels;
    private long _writes;

    public Gpio(int pins) => _pins = pins;

    public int Levels => Volatile.Read(ref _levels);

    public long Writes => Interlocked.Read(ref _writes);

    public void Write(int pin, bool high)
    {
        Set(Mask(pin), high);
        Interlocked.Increment(ref _writes);
    }

    /// <summary>What the outside world does to an input pin (SIM pin= level=): not a module's write.</summary>
    public void SetInput(int pin, bool high) => Set(Mask(pin), high);

    private void Set(int mask, bool high)
    {
        int current, next;
        do
        {
            current = _levels;
            next = high ? current | mask : current & ~mask;
        }
        while (Interlocked.CompareExchange(ref _levels, next, current) != current);
        Changed?.Invoke(current, next);
    }

    /// <summary>Raised after each change of the levels, with the levels before and after.</summary>
    private event Action<int, int>? Changed;

    /// <summary>
    /// gpio_wait_edge: waits for the next edge of <paramref name="pin"/> in <paramref name="edges"/>
    /// (1 rising, 2 falling, 3 both) after the call: the level after it (0 or 1), or
    /// TimedOut after <paramref name="timeoutMs"/> (negative: no timeout), or Stopped when
    /// <paramref name="stop"/> is set; Invalid for a pin or edge mask out of range.
    /// </summary>
    public int WaitEdge(int pin, int edges, int timeoutMs, WaitHandle stop)
    {
        if (pin < 0 || pin >= _pins || edges is < NativeAbi.EdgeRising or > NativeAbi.EdgeBoth)
        {
            return NativeAbi.Invalid;
        }
        var mask = 1 << pin;
        var seen = new System.Collections.Concurrent.ConcurrentQueue<bool>();
        using var signal = new AutoResetEvent(false);
        void OnChanged(int before, int after)
        {
            if (((before ^ after) & mask) != 0)
            {
                seen.Enqueue((after & mask) != 0);
                signal.Set();
            }
        }
        Changed += OnChanged;
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                var left = timeoutMs < 0 ? Timeout.Infinite : (int)Math.Max(0, timeoutMs - clock.ElapsedMilliseconds);
                var woke = WaitHandle.WaitAny([signal, stop], left);
                if (woke == 1)
                {
                    return NativeAbi.Stopped;
                }
                if (woke == WaitHandle.WaitTimeout)
                {
                    return NativeAbi.TimedOut;
                }
                while (seen.TryDequeue(out var high))
                {
                    if ((edges & (high ? NativeAbi.EdgeRising : NativeAbi.EdgeFalling)) != 0)
                    {
                        return high ? 1 : 0;
                    }
                }
            }
        }
        finally
        {
            Changed -= OnChanged;
        }
    }

    public void Toggle(int pin)
    {
        var mask = Mask(pin);
        int current;
        do
        {
            current = _levels;
        }
        while (Interlocked.CompareExchange(ref _levels, current ^ mask, current) != current);
        Changed?.Invoke(current, current ^ mask);
        Interlocked.Increment(ref _writes);
    }

    public bool Read(int pin) => (Levels & Mask(pin)) != 0;

    private int Mask(int pin) =>
        pin >= 0 && pin < _pins
            ? 1 << pin
            : throw new NativeFaultException($"gpio pin {pin} does not exist (0-{_pins - 1})");
}

/// <summary>A native refused its arguments; the job ends with RESULT status=TRAP and this message.</summary>
public sealed class NativeFaultException : Exception
{
    public NativeFaultException(string message)
        : base(message)
    {
    }

    public NativeFaultException()
    {
    }

    public NativeFaultException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
