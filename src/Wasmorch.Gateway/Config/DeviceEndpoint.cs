using System.Globalization;

namespace Wasmorch.Gateway.Config;

public enum EndpointKind
{
    Tcp,
    Serial,
}

/// <summary>Where a device is reached: <c>tcp://host:port</c> or <c>serial:///dev/ttyX?baud=115200</c>.</summary>
public sealed record DeviceEndpoint(EndpointKind Kind, string Host, int Port, string Path, int Baud, string Text)
{
    public override string ToString() => Text;

    public static bool TryParse(string text, out DeviceEndpoint endpoint, out string error)
    {
        endpoint = null!;
        error = string.Empty;
        if (text.StartsWith("tcp://", StringComparison.Ordinal))
        {
            var rest = text["tcp://".Length..].TrimEnd('/');
            var colon = rest.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(rest.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            {
                error = $"'{text}' is not tcp://host:port";
                return false;
            }
            endpoint = new DeviceEndpoint(EndpointKind.Tcp, rest[..colon].Trim('[', ']'), port, string.Empty, 0, text);
            return true;
        }
        if (text.StartsWith("serial://", StringComparison.Ordinal))
        {
            var rest = text["serial://".Length..];
            var query = rest.IndexOf('?', StringComparison.Ordinal);
            var path = query < 0 ? rest : rest[..query];
            var baud = 115200;
            if (query >= 0)
            {
                foreach (var pair in rest[(query + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
                {
                    var kv = pair.Split('=', 2);
                    if (kv.Length != 2 || kv[0] != "baud" || !int.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out baud) || baud <= 0)
                    {
                        error = $"'{text}': only ?baud=<positive integer> is understood";
                        return false;
                    }
                }
            }
            if (!path.StartsWith('/'))
            {
                error = $"'{text}' is not serial:///path/of/tty[?baud=N]";
                return false;
            }
            endpoint = new DeviceEndpoint(EndpointKind.Serial, string.Empty, 0, path, baud, text);
            return true;
        }
        error = $"'{text}': an endpoint is tcp://host:port or serial:///dev/ttyX?baud=N";
        return false;
    }
}
