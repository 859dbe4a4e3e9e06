namespace Wasmorch.Protocol.Modules;

/// <summary>
/// What a device offers a module beyond the seed's natives (docs/protocol.md §6c): an agent lists
/// them in <c>CAPS_OK caps=</c>, a module needs those of the natives it imports, and the gateway
/// uploads a module only when the device offers, and its configuration grants, every one.
/// </summary>
public static class Capabilities
{
    /// <summary>GPIO inputs with edge events (<c>gpio_wait_edge</c>).</summary>
    public const string Gpio = "gpio";

    public const string Adc = "adc";

    /// <summary>The I2C bus a board's devicetree names <c>i2c0</c>; its natives carry the bus in their names so that the need is known before upload.</summary>
    public const string I2c0 = "i2c0";

    public const string I2c1 = "i2c1";

    public const string Pwm = "pwm";

    /// <summary>A periodic timer (<c>timer_start</c>, <c>timer_wait</c>).</summary>
    public const string Timer = "timer";

    /// <summary><c>publish</c>: small events to the host (EVENT lines).</summary>
    public const string Events = "events";

    /// <summary>A small per-module key-value store that outlives the module's jobs.</summary>
    public const string Kv = "kv";

    public static IReadOnlyList<string> Known { get; } = [Gpio, Adc, I2c0, I2c1, Pwm, Timer, Events, Kv];

    /// <summary>
    /// The capabilities a module needs, sorted, from its imports; natives this table does not know
    /// are refused by the import check, not here.
    /// </summary>
    public static SortedSet<string> Required(IEnumerable<string> importedNatives)
    {
        var needed = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var name in importedNatives)
        {
            if (NativeImports.ByName.TryGetValue(name, out var native) && native.Capability is { } capability)
            {
                needed.Add(capability);
            }
        }
        return needed;
    }

    /// <summary>The natives of <paramref name="importedNatives"/> that need <paramref name="capability"/>, for messages.</summary>
    public static string NativesNeeding(string capability, IEnumerable<string> importedNatives) =>
        string.Join(',', importedNatives.Where(n => NativeImports.ByName.TryGetValue(n, out var native) && native.Capability == capability).Order(StringComparer.Ordinal));

    /// <summary>Parses a comma-separated list (<c>caps=</c>, a grant, HELLO_OK's <c>extensions=</c> and <c>modes=</c>): the empty set for null or empty.</summary>
    public static HashSet<string> Parse(string? list) =>
        new((list ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.Ordinal);

    /// <summary>A capability name: lower-case letters and digits, 1–16 of them (what a grant or <c>caps=</c> may say).</summary>
    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= 16 && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c));
}
