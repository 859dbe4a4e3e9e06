using Wasmorch.Cli.Commands;

namespace Wasmorch.Cli.Client;

/// <summary>
/// <c>--gateway nats://host:port[?fleet=name]</c>: the CLI talks to a fleet directly (docs/fleet.md),
/// with no gateway of its own; each request goes to the gateway that owns its device.
/// </summary>
public sealed record FleetAddress(string NatsUrl, string Fleet)
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
        if (query >= 0)
        {
            foreach (var pair in text[(query + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                if (pair.StartsWith("fleet=", StringComparison.Ordinal))
                {
                    fleet = pair["fleet=".Length..];
                }
                else
                {
                    throw new UsageException($"fleet address '{text}': unknown parameter '{pair}' (only fleet=<name>)");
                }
            }
            text = text[..query];
        }
        address = new FleetAddress(text, fleet);
        return true;
    }
}
