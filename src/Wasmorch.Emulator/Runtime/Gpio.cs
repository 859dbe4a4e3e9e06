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

    /// <summary>Raised after each change of the levels, with the levels before and after (what a pin interrupt sees).</summary>
    internal event Action<int, int>? Changed;

    public int Pins => _pins;

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
