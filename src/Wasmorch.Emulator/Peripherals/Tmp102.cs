using Wasmorch.Protocol.Modules;

namespace Wasmorch.Emulator.Peripherals;

/// <summary>
/// A TMP102-like temperature sensor on the emulated I2C bus (address 0x48): a pointer register
/// selects temperature (0, read-only), configuration (1), T_LOW (2) or T_HIGH (3); reads return the
/// selected register's two bytes, most significant first. Temperature is 12 bits of 0.0625 °C,
/// left-aligned, as the real part reports it.
/// </summary>
public sealed class Tmp102 : II2cTarget
{
    public const int DefaultAddress = 0x48;

    /// <summary>
    /// What the simulated part measures, in milli-degrees Celsius: the TMP102's operating range
    /// (−55 °C is specified, +125 °C the most a 12-bit reading in normal mode shows without wrapping).
    /// </summary>
    public const int MinMilliC = -55_000;

    public const int MaxMilliC = 125_000;

    /// <summary>Degrees Celsius as the CLI takes them ("21.5"): milli-degrees, or false outside the part's range.</summary>
    public static bool TryParseCelsius(string text, out int milliC)
    {
        milliC = 0;
        if (!decimal.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign | System.Globalization.NumberStyles.AllowDecimalPoint,
                System.Globalization.CultureInfo.InvariantCulture, out var celsius) || celsius * 1000 < MinMilliC || celsius * 1000 > MaxMilliC)
        {
            return false;
        }
        milliC = (int)Math.Round(celsius * 1000);
        return true;
    }

    /// <summary>The range for messages: "-55 to 125".</summary>
    public static string CelsiusRange => $"{MinMilliC / 1000} to {MaxMilliC / 1000}";

    private readonly object _gate = new();
    private readonly ushort[] _registers = [0, 0x60A0, 0x4B00, 0x5000];
    private int _pointer;
    private int _milliC;

    public Tmp102(int milliC) => TemperatureMilliC = milliC;

    /// <summary>The temperature the sensor measures (what SIM temp_mc sets).</summary>
    public int TemperatureMilliC
    {
        get => Volatile.Read(ref _milliC);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, MinMilliC);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxMilliC);
            Volatile.Write(ref _milliC, value);
        }
    }

    /// <summary>The temperature register for <paramref name="milliC"/>: 1/16 °C steps toward zero, left-aligned in 16 bits.</summary>
    public static ushort Register(int milliC) => (ushort)(((milliC * 16 / 1000) & 0xFFF) << 4);

    /// <summary>The reading a module computes from the register, in milli-degrees (what a thermostat publishes).</summary>
    public static int MilliC(ushort register) => ((short)register >> 4) * 1000 / 16;

    public int Write(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty || data[0] > 3 || data.Length is not (1 or 3))
        {
            return NativeAbi.Io; // the part NACKs a pointer past its registers or a partial word
        }
        lock (_gate)
        {
            _pointer = data[0];
            if (data.Length == 3 && _pointer != 0)
            {
                _registers[_pointer] = (ushort)(data[1] << 8 | data[2]);
            }
        }
        return 0;
    }

    public int Read(Span<byte> data)
    {
        ushort value;
        lock (_gate)
        {
            value = _pointer == 0 ? Register(TemperatureMilliC) : _registers[_pointer];
        }
        for (var i = 0; i < data.Length; i++)
        {
            // Reading on past the register's two bytes repeats them, as the part does.
            data[i] = (byte)(i % 2 == 0 ? value >> 8 : value);
        }
        return 0;
    }
}
