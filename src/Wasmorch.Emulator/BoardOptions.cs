using Wasmorch.Protocol.Modules;

namespace Wasmorch.Emulator;

/// <summary>What one emulated board is and how much it can hold, like the limits of a real MCU.</summary>
public sealed record BoardOptions
{
    public required string Name { get; init; }

    /// <summary>TCP port to listen on (0 picks a free one and reports it).</summary>
    public int Port { get; init; }

    public string BindAddress { get; init; } = "127.0.0.1";

    /// <summary>Largest module accepted by LOAD, in bytes (a NUCLEO-F446RE's WAMR pool holds about this).</summary>
    public int MaxModuleBytes { get; init; } = 64 * 1024;

    public int MaxModules { get; init; } = 8;

    /// <summary>Linear memory a module may use: one 64 KiB page, as on the boards.</summary>
    public long MaxLinearMemoryBytes { get; init; } = 64 * 1024;

    public TimeSpan LoadTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a stopped job may run on before the runtime terminates it.</summary>
    public TimeSpan StopGracePeriod { get; init; } = TimeSpan.FromMilliseconds(500);

    public int GpioPins { get; init; } = 16;

    /// <summary>
    /// The link key (docs/protocol.md §6a): when set, a peer must prove it holds the key (HELLO,
    /// AUTH) before the board takes any command that changes it. Null: an open board.
    /// </summary>
    public byte[]? LinkKey { get; init; }

    /// <summary>The nonce of each HELLO_OK (random; a test may make it predictable).</summary>
    public Func<string> NewNonce { get; init; } = Protocol.Agent.LinkAuth.NewNonce;

    /// <summary>
    /// Accept Wasmtime-precompiled (AOT) modules when the board has a link key (false refuses them
    /// even then). They are native code: they may only come from a peer that proved it holds the
    /// key, never from whoever can open the board's port.
    /// </summary>
    public bool? AllowPrecompiled { get; init; }

    public bool AcceptsPrecompiled => LinkKey is not null && (AllowPrecompiled ?? true);

    /// <summary>
    /// The XLOAD window (docs/protocol.md §6b): the stream bytes a peer may send beyond the last
    /// acknowledged offset, what an MCU's receive ring holds. 0: the board offers no XLOAD.
    /// </summary>
    public int XloadWindow { get; init; } = 4096;

    /// <summary>Behave as a seed-baseline agent: no HELLO, no extensions (to test gateways against one).</summary>
    public bool Baseline { get; init; }

    /// <summary>
    /// The capabilities the board offers modules (docs/protocol.md §6c): its simulated GPIO inputs,
    /// ADC channel 0, the TMP102 on I2C bus 0, four PWM channels, the timer, events and the kv store.
    /// A module importing a native of another capability is refused at LOAD.
    /// </summary>
    public IReadOnlySet<string> Caps { get; init; } = DefaultCaps;

    public static IReadOnlySet<string> DefaultCaps { get; } = new HashSet<string>(
        [Capabilities.Gpio, Capabilities.Adc, Capabilities.I2c0, Capabilities.Pwm, Capabilities.Timer, Capabilities.Events, Capabilities.Kv], StringComparer.Ordinal);

    /// <summary>What the simulated TMP102 measures at start, in milli-degrees Celsius (SIM temp_mc changes it).</summary>
    public int TemperatureMilliC { get; init; } = 22_500;

    /// <summary>What ADC channel 0 reads over time.</summary>
    public Peripherals.Waveform AdcWaveform { get; init; } = Peripherals.Waveform.Default;

    /// <summary>Events a job may publish a second once its burst is spent (§6c); more are dropped and counted.</summary>
    public int EventsPerSecond { get; init; } = 20;

    public int EventBurst { get; init; } = 20;

    /// <summary>Offer SIM (§6d): inputs a host may set. Off, the board answers as one with real inputs would (the transcript vectors).</summary>
    public bool SimulatedInputs { get; init; } = true;
}
