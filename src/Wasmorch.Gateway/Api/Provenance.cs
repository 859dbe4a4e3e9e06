namespace Wasmorch.Gateway.Api;

/// <summary>
/// The <c>by</c> of a deploy as the gateway records it (history, rollouts): what a client says of
/// its user is its word only and is marked "(claimed)"; who signed a request forwarded through the
/// fleet is known and is said first (docs/security.md).
/// </summary>
public static class Provenance
{
    private const string ClaimedMark = " (claimed)";

    /// <summary><paramref name="by"/> as a client's word (once: a request forwarded on keeps its mark).</summary>
    public static string? Claimed(string? by) =>
        by is null || by.EndsWith(ClaimedMark, StringComparison.Ordinal) ? by : by + ClaimedMark;

    /// <summary>A request signed by <paramref name="signer"/> (a gateway or an operator of the fleet), for <paramref name="by"/> as claimed.</summary>
    public static string SignedBy(string signer, bool isOperator, string? by)
    {
        var who = $"{(isOperator ? "operator" : "gateway")} {signer} (signed)";
        return by is null ? who : $"{who}, for {Claimed(by)}";
    }
}
