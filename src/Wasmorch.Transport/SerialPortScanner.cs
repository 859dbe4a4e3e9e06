namespace Wasmorch.Transport;

/// <summary>A serial device Linux knows of, with its USB identity when it has one.</summary>
public sealed record SerialCandidate(string Path, string? UsbId, string? Serial, string? Manufacturer, string? Product, string? ById);

/// <summary>Lists serial devices from sysfs (ttyACM*, ttyUSB*) and finds one by USB VID:PID and serial.</summary>
public static class SerialPortScanner
{
    public static IReadOnlyList<SerialCandidate> Scan(string sysClassTty = "/sys/class/tty", string byIdDir = "/dev/serial/by-id")
    {
        var byId = Directory.Exists(byIdDir)
            ? Directory.GetFiles(byIdDir).ToDictionary(f => Resolve(f), f => f, StringComparer.Ordinal)
            : [];
        var result = new List<SerialCandidate>();
        if (!Directory.Exists(sysClassTty))
        {
            return result;
        }
        foreach (var entry in Directory.GetDirectories(sysClassTty).Concat(Directory.GetFiles(sysClassTty)).Order(StringComparer.Ordinal))
        {
            var name = System.IO.Path.GetFileName(entry);
            if (!name.StartsWith("ttyACM", StringComparison.Ordinal) && !name.StartsWith("ttyUSB", StringComparison.Ordinal))
            {
                continue;
            }
            var usb = FindUsbDevice(System.IO.Path.Combine(entry, "device"));
            var vid = usb is null ? null : Read(usb, "idVendor");
            var pid = usb is null ? null : Read(usb, "idProduct");
            var path = "/dev/" + name;
            result.Add(new SerialCandidate(path, vid is null || pid is null ? null : $"{vid}:{pid}",
                usb is null ? null : Read(usb, "serial"), usb is null ? null : Read(usb, "manufacturer"),
                usb is null ? null : Read(usb, "product"), byId.GetValueOrDefault(path)));
        }
        return result;
    }

    public static string? Find(string usbId, string? serial) =>
        Scan().FirstOrDefault(c => string.Equals(c.UsbId, usbId, StringComparison.OrdinalIgnoreCase)
            && (serial is null || string.Equals(c.Serial, serial, StringComparison.Ordinal)))?.Path;

    /// <summary>Walks up from the tty's device to the USB device that has idVendor.</summary>
    private static string? FindUsbDevice(string deviceLink)
    {
        if (!Directory.Exists(deviceLink))
        {
            return null;
        }
        var dir = new DirectoryInfo(Resolve(deviceLink));
        for (var depth = 0; dir is not null && depth < 4; depth++, dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "idVendor")))
            {
                return dir.FullName;
            }
        }
        return null;
    }

    private static string Resolve(string path)
    {
        var info = new FileInfo(path);
        return info.LinkTarget is null ? info.FullName : info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? info.FullName;
    }

    private static string? Read(string dir, string file)
    {
        var path = System.IO.Path.Combine(dir, file);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }
}
