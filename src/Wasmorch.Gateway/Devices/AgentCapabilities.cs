using Wasmorch.Protocol.Agent;

namespace Wasmorch.Gateway.Devices;

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
    public const string Ping = "PING";
    public const string Unload = "UNLOAD";
    public const string Log = "LOG";

    public static AgentCapabilities Baseline { get; } = new(
        true, null, null, null, new HashSet<string> { "wasm" }, null, null, null, new HashSet<string>(),
        new Dictionary<string, string> { ["baseline"] = "true" });

    public bool Offers(string extension) => Extensions.Contains(extension);

    public static AgentCapabilities FromHello(AgentLine hello) => new(
        false,
        hello["agent"],
        hello["board"],
        hello["runtime"],
        List(hello["modes"] ?? "wasm"),
        hello["aot_target"] is "-" or null ? null : hello["aot_target"],
        hello.TryGetInt64("max_module", out var maxModule) ? maxModule : null,
        hello.TryGetInt64("max_modules", out var maxModules) ? maxModules : null,
        List(hello["extensions"]),
        hello.Fields.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal));

    private static HashSet<string> List(string? text) =>
        new((text ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.Ordinal);
}
