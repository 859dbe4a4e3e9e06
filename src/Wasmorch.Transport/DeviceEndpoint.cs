using System.Globalization;
using System.Text.RegularExpressions;

namespace Wasmorch.Transport;

public enum EndpointKind
{
    Tcp,
    Serial,
}

/// <summary>
/// Where a device is reached: <c>tcp://host:port</c>, <c>serial:///dev/ttyX?baud=115200</c>, or
/// <c>serial://usb/VID:PID?serial=SN&amp;baud=115200</c> (found by USB identity, whatever its tty).
/// On Windows a port is a name, not a path: <c>serial://COM3?baud=115200</c>, or <c>COM3</c> alone.
/// </summary>
public sealed partial record DeviceEndpoint(EndpointKind Kind, string Host, int Port, string Path, int Baud, string Text)
{
    public const int DefaultBaud = 115200;

    /// <summary>USB <c>vid:pid</c> (hex) for a port found by identity; null for a path.</summary>
    public string? UsbId { get; init; }

    public string? UsbSerial { get; init; }

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
        if (WindowsPort().IsMatch(text))
        {
            // COM3 (or \\.\COM10, the form Windows needs past COM9) as typed in Device Manager's terms.
            endpoint = new DeviceEndpoint(EndpointKind.Serial, string.Empty, 0, WindowsPortName(text), DefaultBaud, text);
            return true;
        }
        if (text.StartsWith("serial:", StringComparison.Ordinal))
        {
            var rest = text.StartsWith("serial://", StringComparison.Ordinal) ? text["serial://".Length..] : text["serial:".Length..];
            var query = rest.IndexOf('?', StringComparison.Ordinal);
            var path = query < 0 ? rest : rest[..query];
            var baud = DefaultBaud;
            string? serial = null;
            if (query >= 0)
            {
                foreach (var pair in rest[(query + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
                {
                    var kv = pair.Split('=', 2);
                    if (kv.Length == 2 && kv[0] == "baud" && int.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out baud) && baud > 0)
                    {
                        continue;
                    }
                    if (kv.Length == 2 && kv[0] == "serial" && kv[1].Length > 0)
                    {
                        serial = kv[1];
                        continue;
                    }
                    error = $"'{text}': only ?baud=<positive integer> and &serial=<USB serial number> are understood";
                    return false;
                }
            }
            if (path.StartsWith("usb/", StringComparison.Ordinal))
            {
                var id = path["usb/".Length..].ToLowerInvariant();
                if (!UsbIdPattern().IsMatch(id))
                {
                    error = $"'{text}': a USB identity is usb/VID:PID in hex, e.g. usb/0483:374b";
                    return false;
                }
                endpoint = new DeviceEndpoint(EndpointKind.Serial, string.Empty, 0, string.Empty, baud, text) { UsbId = id, UsbSerial = serial };
                return true;
            }
            if (WindowsPort().IsMatch(path) && serial is null)
            {
                endpoint = new DeviceEndpoint(EndpointKind.Serial, string.Empty, 0, WindowsPortName(path), baud, text);
                return true;
            }
            if (!path.StartsWith('/') || serial is not null)
            {
                error = $"'{text}' is not serial:///path/of/tty[?baud=N], serial://COMn[?baud=N] or serial://usb/VID:PID[?serial=SN&baud=N]";
                return false;
            }
            endpoint = new DeviceEndpoint(EndpointKind.Serial, string.Empty, 0, path, baud, text);
            return true;
        }
        error = $"'{text}': an endpoint is tcp://host:port, serial:///dev/ttyX?baud=N or serial://COMn?baud=N";
        return false;
    }

    /// <summary>COM1…COM256 in any case, upper-cased; <c>\\.\COMn</c> gives COMn (System.IO.Ports adds the prefix itself).</summary>
    private static string WindowsPortName(string text) => text[(text.LastIndexOf('\\') + 1)..].ToUpperInvariant();

    [GeneratedRegex(@"^(\\\\\.\\)?[Cc][Oo][Mm]([1-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-6])$")]
    private static partial Regex WindowsPort();

    [GeneratedRegex("^[0-9a-f]{4}:[0-9a-f]{4}$")]
    private static partial Regex UsbIdPattern();
}
