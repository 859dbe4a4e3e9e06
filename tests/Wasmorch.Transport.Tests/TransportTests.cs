using System.Diagnostics;

namespace Wasmorch.Transport.Tests;

public sealed class EndpointTests
{
    [Theory]
    [InlineData("serial:///dev/ttyACM0?baud=921600", "/dev/ttyACM0", 921600, null, null)]
    [InlineData("serial:///dev/ttyUSB1", "/dev/ttyUSB1", 115200, null, null)]
    [InlineData("serial:/tmp/ttyB?baud=9600", "/tmp/ttyB", 9600, null, null)]
    [InlineData("serial://usb/0483:374B?serial=066DFF&baud=115200", "", 115200, "0483:374b", "066DFF")]
    [InlineData("serial://COM3?baud=115200", "COM3", 115200, null, null)]
    [InlineData("serial://com12?baud=921600", "COM12", 921600, null, null)]
    [InlineData("serial:COM4", "COM4", 115200, null, null)]
    [InlineData("COM3", "COM3", 115200, null, null)]
    [InlineData(@"\\.\COM10", "COM10", 115200, null, null)]
    [InlineData("COM256", "COM256", 115200, null, null)]
    public void Serial_endpoints_by_path_or_usb_identity(string text, string path, int baud, string? usb, string? serial)
    {
        Assert.True(DeviceEndpoint.TryParse(text, out var endpoint, out var error), error);
        Assert.Equal((EndpointKind.Serial, path, baud, usb, serial), (endpoint.Kind, endpoint.Path, endpoint.Baud, endpoint.UsbId, endpoint.UsbSerial));
    }

    [Theory]
    [InlineData("serial://usb/483:374b", "usb/VID:PID")]
    [InlineData("serial:///dev/ttyACM0?parity=even", "baud")]
    [InlineData("serial:///dev/ttyACM0?serial=x", "serial://usb")]
    [InlineData("udp://1.2.3.4:5", "tcp://host:port, serial")]
    [InlineData("COM0", "serial://COMn")]
    [InlineData("COM257", "serial://COMn")]
    [InlineData("serial://COM3?serial=x", "serial://COMn")]
    [InlineData("serial://COM3x", "serial://COMn")]
    [InlineData("serial://COM3?baud=0", "baud")]
    public void Bad_endpoints_say_why(string text, string message)
    {
        Assert.False(DeviceEndpoint.TryParse(text, out _, out var error));
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_tty_is_reported_as_unplugged()
    {
        var link = new SerialDeviceLink(Parse("serial:///dev/ttyWASMORCH_NONE?baud=115200"));
        var error = await Assert.ThrowsAsync<LinkUnavailableException>(() => link.OpenAsync(CancellationToken.None));
        Assert.Contains("/dev/ttyWASMORCH_NONE does not exist", error.Message, StringComparison.Ordinal);
    }

    private static DeviceEndpoint Parse(string text) => DeviceEndpoint.TryParse(text, out var e, out _) ? e : throw new ArgumentException(text);
}

public sealed class ScannerTests
{
    [Fact]
    public void Finds_usb_identity_through_sysfs_and_by_id_links()
    {
        var root = Directory.CreateTempSubdirectory("wasmorch-sysfs-").FullName;
        try
        {
            // /sys/class/tty/ttyACM0/device -> .../usb1/1-2/1-2:1.0, whose parent holds idVendor.
            var usbDevice = Directory.CreateDirectory(Path.Combine(root, "devices", "usb1", "1-2")).FullName;
            var iface = Directory.CreateDirectory(Path.Combine(usbDevice, "1-2:1.0")).FullName;
            File.WriteAllText(Path.Combine(usbDevice, "idVendor"), "0483\n");
            File.WriteAllText(Path.Combine(usbDevice, "idProduct"), "374b\n");
            File.WriteAllText(Path.Combine(usbDevice, "serial"), "066DFF\n");
            File.WriteAllText(Path.Combine(usbDevice, "product"), "STM32 STLink\n");
            var tty = Directory.CreateDirectory(Path.Combine(root, "class", "tty", "ttyACM0")).FullName;
            File.CreateSymbolicLink(Path.Combine(tty, "device"), iface);
            Directory.CreateDirectory(Path.Combine(root, "class", "tty", "ttyS0"));

            var found = SerialPortScanner.Scan(Path.Combine(root, "class", "tty"), Path.Combine(root, "by-id"));
            var port = Assert.Single(found);
            Assert.Equal(("/dev/ttyACM0", "0483:374b", "066DFF", "STM32 STLink"), (port.Path, port.UsbId, port.Serial, port.Product));
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}

public sealed class ThrottleTests
{
    [Fact]
    public async Task Writes_never_go_faster_than_the_baud_rate_allows()
    {
        using var sink = new MemoryStream();
        await using var throttled = new ThrottledStream(sink, ThrottledStream.BytesPerSecond(115200));
        var clock = Stopwatch.StartNew();
        await throttled.WriteAsync(new byte[2304]);
        // 2304 bytes at 11520 B/s take 200 ms on the wire; a 20 ms burst allowance is the only slack.
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(175), $"{clock.Elapsed.TotalMilliseconds} ms");
        Assert.Equal(2304, sink.Length);
    }

    [Fact]
    public async Task Reads_are_paced_the_same_way()
    {
        await using var throttled = new ThrottledStream(new MemoryStream(new byte[1152]), ThrottledStream.BytesPerSecond(115200));
        var buffer = new byte[4096];
        var total = 0;
        var clock = Stopwatch.StartNew();
        int read;
        while ((read = await throttled.ReadAsync(buffer)) > 0)
        {
            total += read;
        }
        Assert.Equal(1152, total);
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(75), $"{clock.Elapsed.TotalMilliseconds} ms");
    }
}
