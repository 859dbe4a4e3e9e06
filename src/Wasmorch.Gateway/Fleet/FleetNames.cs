using System.Text.RegularExpressions;

namespace Wasmorch.Gateway.Fleet;

/// <summary>
/// The one rule for gateway and fleet names: a single NATS subject token and part of a bucket name,
/// so never '.', '*', '>' or a space. Checked where names are configured and wherever they are read.
/// </summary>
public static partial class FleetNames
{
    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex Pattern();
}
