namespace Wasmorch.Protocol.Agent;

/// <summary>STATUS's <c>module_crcs=id:crc,…</c> (docs/protocol.md §3): what a device holds, by module id.</summary>
public static class ModuleCrcs
{
    /// <summary>Module id → CRC-32 (lower-case hex); pairs without an id are skipped, a missing field is an empty map.</summary>
    public static Dictionary<string, string> Parse(string? moduleCrcs)
    {
        var held = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in (moduleCrcs ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = pair.LastIndexOf(':');
            if (colon > 0)
            {
                held[pair[..colon]] = pair[(colon + 1)..].ToLowerInvariant();
            }
        }
        return held;
    }
}
