using Wasmorch.Protocol.Agent;

namespace Wasmorch.Protocol.HostApi;

/// <summary>
/// A function and its arguments written as one string, <c>func[:args]</c>: a desired state's
/// <c>autostart</c>, a rollout's <c>check</c> (docs/fleet-ops.md).
/// </summary>
public sealed record FuncCall(string Func, string? Args)
{
    /// <summary>False when the function is not a C identifier or the arguments are not as <c>start</c> takes them.</summary>
    public static bool TryParse(string text, out FuncCall? call)
    {
        var (func, args) = text.Split(':', 2) is [var f, var a] ? (f, a) : (text, null);
        call = ModuleId.IsValidFunctionName(func) && FuncArgs.TryParse(args, out _, out _) ? new FuncCall(func, args) : null;
        return call is not null;
    }
}
