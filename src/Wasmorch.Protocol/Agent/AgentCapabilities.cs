
namespace Wasmorch.Protocol.Agent;

/// <summary>
/// What an agent said of itself in HELLO_OK, or the seed baseline when it answered HELLO with ERR.
/// The gateway uses an extension only when it is offered here.
/// </summary>
public sealed record AgentCapabilities(
    bool IsBaseline,
    string? Agent,
    string? Board,
    string? Runtime,
    IReadOnlySet<string> Modes,
    string? AotTarget,
    long? MaxModule,
    long? MaxModules,
    IReadOnlySet<string> Extensions,
    IReadOnlyDictionary<string, string> Fields)
{
    public const string Ping = AgentVerbs.Ping;
    public const string Unload = AgentVerbs.Unload;
    public const string Log = AgentVerbs.Log;

    public static AgentCapabilities Baseline { get; } = new(
        true, null, null, null, new HashSet<string> { "wasm" }, null, null, null, new HashSet<string>(),
        new Dictionary<string, string> { ["baseline"] = "true" });

    public const string Xload = AgentVerbs.Xload;

    public const string CapsExtension = AgentVerbs.Caps;

    public const string EventExtension = AgentVerbs.Event;

    public const string Sim = AgentVerbs.Sim;

    public bool Offers(string extension) => Extensions.Contains(extension);

    /// <summary>§6c: the capabilities the device offers modules (CAPS_OK); empty for an agent without CAPS.</summary>
    public IReadOnlySet<string> Caps { get; init; } = new HashSet<string>();

    /// <summary>These capabilities with the device's CAPS_OK list, which the host API shows as <c>caps</c> among HELLO_OK's fields.</summary>
    public AgentCapabilities WithCaps(string? list) => this with
    {
        Caps = Modules.Capabilities.Parse(list),
        Fields = new Dictionary<string, string>(Fields, StringComparer.Ordinal) { [AgentKeys.Caps] = list ?? string.Empty },
    };


    public static AgentCapabilities FromHello(AgentLine hello) => new(
        false,
        hello[AgentKeys.Agent],
        hello[AgentKeys.Board],
        hello[AgentKeys.Runtime],
        List(hello[AgentKeys.Modes] ?? "wasm"),
        hello[AgentKeys.AotTarget] is "-" or null ? null : hello[AgentKeys.AotTarget],
        hello.TryGetInt64(AgentKeys.MaxModule, out var maxModule) ? maxModule : null,
        hello.TryGetInt64(AgentKeys.MaxModules, out var maxModules) ? maxModules : null,
        List(hello[AgentKeys.Extensions]),
        // The AUTH challenge is used up at link start: it describes the handshake, not the agent.
        hello.Fields.Where(f => f.Key != LinkAuth.NonceKey).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal));

    private static HashSet<string> List(string? text) =>
        new((text ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.Ordinal);
}
