
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

    public const string Sim = AgentVerbs.Sim;

    /// <summary>
    /// True when the agent offers <paramref name="extension"/>: listed in HELLO_OK's extensions, or,
    /// for CAPS and SIM, which HELLO_OK has no room to list (§6c), answered by CAPS_OK.
    /// </summary>
    public bool Offers(string extension) => extension switch
    {
        CapsExtension => CapsAnswered,
        Sim => CapsAnswered && SimInputs is not null,
        _ => Extensions.Contains(extension),
    };

    /// <summary>§6c: the agent answered CAPS with CAPS_OK.</summary>
    public bool CapsAnswered { get; init; }

    /// <summary>§6c: the capabilities the device offers modules (CAPS_OK); empty for an agent without CAPS.</summary>
    public IReadOnlySet<string> Caps { get; init; } = new HashSet<string>();

    /// <summary>§6d: CAPS_OK's <c>sim=</c>, what SIM sets; null for a board with real inputs.</summary>
    public string? SimInputs { get; init; }

    /// <summary>These capabilities with the device's CAPS_OK, which the host API shows as <c>caps</c> (and <c>sim</c>) among HELLO_OK's fields.</summary>
    public AgentCapabilities WithCaps(AgentLine capsOk)
    {
        var list = capsOk[AgentKeys.Caps] is "-" or null ? string.Empty : capsOk[AgentKeys.Caps]!;
        var fields = new Dictionary<string, string>(Fields, StringComparer.Ordinal) { [AgentKeys.Caps] = list };
        if (capsOk[AgentKeys.Sim] is { } sim)
        {
            fields[AgentKeys.Sim] = sim;
        }
        return this with { CapsAnswered = true, Caps = Modules.Capabilities.Parse(list), SimInputs = capsOk[AgentKeys.Sim], Fields = fields };
    }


    public static AgentCapabilities FromHello(AgentLine hello) => new(
        false,
        hello[AgentKeys.Agent],
        hello[AgentKeys.Board],
        hello[AgentKeys.Runtime],
        Modules.Capabilities.Parse(hello[AgentKeys.Modes] ?? "wasm"),
        hello[AgentKeys.AotTarget] is "-" or null ? null : hello[AgentKeys.AotTarget],
        hello.TryGetInt64(AgentKeys.MaxModule, out var maxModule) ? maxModule : null,
        hello.TryGetInt64(AgentKeys.MaxModules, out var maxModules) ? maxModules : null,
        Modules.Capabilities.Parse(hello[AgentKeys.Extensions]),
        // The AUTH challenge is used up at link start: it describes the handshake, not the agent.
        hello.Fields.Where(f => f.Key != LinkAuth.NonceKey).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal));
}
