using System.IO.Ports;

namespace Wasmorch.Transport;

/// <summary>
/// A device on a UART: <c>serial:///dev/ttyACM0?baud=115200</c>, or a USB serial adapter found by
/// VID:PID and serial number so that a board keeps its name when Linux renumbers it.
/// </summary>
public sealed class SerialDeviceLink : IDeviceLink
{
    private readonly DeviceEndpoint _endpoint;

    public SerialDeviceLink(DeviceEndpoint endpoint) => _endpoint = endpoint;

    public string Description => _endpoint.Text;

    public Task<Stream> OpenAsync(CancellationToken ct)
    {
        var path = _endpoint.UsbId is { } usb
            ? SerialPortScanner.Find(usb, _endpoint.UsbSerial)
                ?? throw new LinkUnavailableException($"{_endpoint.Text}: no USB serial device {usb}{(_endpoint.UsbSerial is null ? "" : $" with serial {_endpoint.UsbSerial}")} is attached")
            : _endpoint.Path;
        return Task.FromResult<Stream>(SerialPorts.Open(path, _endpoint.Baud));
    }
}

/// <summary>Opening a tty with the errors a person can act on (System.IO.Ports' own are misleading).</summary>
public static class SerialPorts
{
    public static SerialStream Open(string path, int baud)
    {
        if (!File.Exists(path))
        {
            throw new LinkUnavailableException($"serial port {path} does not exist (unplugged?)");
        }
        var port = new SerialPort(path, baud, Parity.None, 8, StopBits.One)
        {
            Handshake = Handshake.None,
            ReadBufferSize = 64 * 1024,
            WriteBufferSize = 64 * 1024,
        };
        try
        {
            port.Open();
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException or ArgumentException or InvalidOperationException)
        {
            port.Dispose();
            // A tty that is being removed (USB unplug, pty closed) can fail to open just before it disappears.
            Thread.Yield();
            throw new LinkUnavailableException(!File.Exists(path) || !File.Exists(new FileInfo(path).ResolveLinkTarget(true)?.FullName ?? path)
                ? $"serial port {path} does not exist (unplugged?)"
                : ex is UnauthorizedAccessException
                    ? $"cannot open serial port {path}: permission denied (add the gateway's user to the dialout group)"
                    : $"cannot open serial port {path}: {ex.Message}");
        }
        return new SerialStream(port, path);
    }
}

/// <summary>
/// A serial port's stream that also notices the tty vanishing (USB unplug, pty closed): reads
/// fail within a second instead of blocking forever on a device node that no longer exists.
/// </summary>
public sealed class SerialStream : DelegatingStream
{
    private static readonly TimeSpan PresenceCheck = TimeSpan.FromMilliseconds(250);

    private readonly SerialPort _port;
    private readonly string _path;
    private readonly CancellationTokenSource _gone = new();
    private readonly Timer _watch;

    internal SerialStream(SerialPort port, string path)
        : base(port.BaseStream)
    {
        _port = port;
        _path = path;
        _watch = new Timer(_ => CheckPresence(), null, PresenceCheck, PresenceCheck);
    }

    public string Path => _path;

    private void CheckPresence()
    {
        if (!File.Exists(_path) && !_gone.IsCancellationRequested)
        {
            _gone.Cancel();
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _gone.Token);
        try
        {
            return await Inner.ReadAsync(buffer, linked.Token);
        }
        catch (OperationCanceledException) when (_gone.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"serial port {_path} vanished");
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_gone.IsCancellationRequested)
        {
            throw new IOException($"serial port {_path} vanished");
        }
        await Inner.WriteAsync(buffer, cancellationToken);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _watch.Dispose();
            _gone.Cancel();
            _gone.Dispose();
            try
            {
                _port.Dispose();
            }
            catch (IOException)
            {
                // Closing a tty that already vanished fails; it is gone either way.
            }
        }
        base.Dispose(disposing);
    }
}
