using Wasmorch.Cli.Commands;

namespace Wasmorch.Cli.Client;

/// <summary>
/// <c>--gateway nats://[user:password@]host:port[?fleet=name&amp;keys=operator.toml]</c>: the CLI talks
/// to a fleet directly (docs/fleet.md), with no gateway of its own; each request goes to the gateway
/// that owns its device, signed with the operator's key of <c>keys</c> (a config whose [fleet] has
/// key_file and trusted_gateways, as <c>wasmorch fleet init</c> writes it).
/// </summary>
/// <param name="FleetNamed">Whether the address said which fleet (<c>?fleet=</c>); else it is "default".</param>
public sealed record FleetAddress(string NatsUrl, string Fleet, string? Keys = null, bool FleetNamed = true)
{
    public static bool TryParse(string? text, out FleetAddress? address)
    {
        address = null;
        text ??= Environment.GetEnvironmentVariable(GatewayAddress.EnvironmentVariable);
        if (text is null || !text.StartsWith("nats://", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        var query = text.IndexOf('?', StringComparison.Ordinal);
        var fleet = "default";
        var named = false;
        string? keys = null;
        if (query >= 0)
        {
            foreach (var pair in text[(query + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                if (pair.StartsWith("fleet=", StringComparison.Ordinal))
                {
                    fleet = pair["fleet=".Length..];
                    named = true;
                }
                else if (pair.StartsWith("keys=", StringComparison.Ordinal))
                {
                    keys = Uri.UnescapeDataString(pair["keys=".Length..]);
                }
                else
                {
                    throw new UsageException($"fleet address '{text}': unknown parameter '{pair}' (only fleet=<name> and keys=<operator.toml>)");
                }
            }
            text = text[..query];
        }
        address = new FleetAddress(text, fleet, keys, named);
        return true;
    }
}
