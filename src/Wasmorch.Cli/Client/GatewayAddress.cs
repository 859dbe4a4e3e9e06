using System.Globalization;

namespace Wasmorch.Cli.Client;

/// <summary>
/// Where the gateway is: <c>--gateway [tls://]host:port</c>, else <c>WASMORCH_GATEWAY</c>, else
/// 127.0.0.1:9000. <c>tls://</c> speaks TLS to a gateway started with a certificate.
/// </summary>
public sealed record GatewayAddress(string Host, int Port, bool Tls = false)
{
    public const string EnvironmentVariable = "WASMORCH_GATEWAY";

    public static GatewayAddress Default { get; } = new("127.0.0.1", 9000);

    public override string ToString() => $"{(Tls ? "tls://" : "")}{Host}:{Port}";

    public static bool TryResolve(string? option, out GatewayAddress address, out string error)
    {
        var text = option ?? Environment.GetEnvironmentVariable(EnvironmentVariable);
        address = Default;
        error = string.Empty;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }
        var tls = text.StartsWith("tls://", StringComparison.OrdinalIgnoreCase);
        if (tls)
        {
            text = text["tls://".Length..];
        }
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            error = $"gateway address '{text}' is not [tls://]host:port";
            return false;
        }
        address = new GatewayAddress(text[..colon].Trim('[', ']'), port, tls);
        return true;
    }
}
