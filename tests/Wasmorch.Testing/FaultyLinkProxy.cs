using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Wasmorch.Testing;

public enum LinkFault
{
    None,

    /// <summary>Flip one bit of the first LOAD payload, as line noise would.</summary>
    CorruptPayload,

    /// <summary>Forward only half of the first LOAD payload, then nothing more towards the device.</summary>
    TruncatePayload,

    /// <summary>Forward half of the first payload (a LOAD's or an XLOAD's stream), then close both sides: a cable pulled mid-upload.</summary>
    DropLink,
}

/// <summary>
/// A TCP relay between the gateway and a device that can damage the first LOAD payload: the
/// test stand-in for a noisy or broken serial cable. Everything else passes through unchanged.
/// </summary>
public sealed partial class FaultyLinkProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _upstreamPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private LinkFault _fault;

    public FaultyLinkProxy(int upstreamPort, LinkFault fault)
    {
        _upstreamPort = upstreamPort;
        _fault = fault;
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    private readonly List<long> _xloadOffsets = [];

    /// <summary>The size of the first payload the proxy saw (LOAD's size, XLOAD's zsize).</summary>
    public long FirstPayloadSize { get; private set; }

    /// <summary>The <c>offset</c> of every XLOAD_READY the device sent, in order: where each XLOAD started.</summary>
    public IReadOnlyList<long> XloadOffsets
    {
        get
        {
            lock (_xloadOffsets)
            {
                return [.. _xloadOffsets];
            }
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort);
            lock (_sockets)
            {
                _sockets.Add(client);
                _sockets.Add(upstream);
            }
            _ = RelayTowardsDeviceAsync(client, upstream);
            _ = RelayFromDeviceAsync(upstream, client);
        }
    }

    /// <summary>Everything the device sends goes through unchanged; XLOAD_READY's offsets are noted.</summary>
    private async Task RelayFromDeviceAsync(Socket from, Socket to)
    {
        var buffer = new byte[4096];
        var line = new StringBuilder();
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, _stop.Token)) > 0)
            {
                foreach (var b in buffer.AsSpan(0, read))
                {
                    if (b != (byte)'\n')
                    {
                        line.Append((char)b);
                        continue;
                    }
                    if (XloadReadyOffset().Match(line.ToString()) is { Success: true } ready)
                    {
                        lock (_xloadOffsets)
                        {
                            _xloadOffsets.Add(long.Parse(ready.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
                        }
                    }
                    line.Clear();
                }
                await to.SendAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The relay ends with either side.
        }
        to.Dispose();
    }

    private async Task RelayTowardsDeviceAsync(Socket from, Socket to)
    {
        var line = new StringBuilder();
        long payloadLeft = 0;
        long payloadSize = 0;
        var buffer = new byte[1];
        try
        {
            while (await from.ReceiveAsync(buffer, _stop.Token) > 0)
            {
                var b = buffer[0];
                if (payloadLeft > 0)
                {
                    var offset = payloadSize - payloadLeft;
                    payloadLeft--;
                    var fault = _fault;
                    if (payloadLeft == 0)
                    {
                        _fault = LinkFault.None;
                    }
                    if (fault == LinkFault.CorruptPayload && offset == payloadSize / 2)
                    {
                        b ^= 0x01;
                    }
                    if (fault == LinkFault.TruncatePayload && offset >= payloadSize / 2)
                    {
                        continue;
                    }
                    if (fault == LinkFault.DropLink && offset >= payloadSize / 2)
                    {
                        _fault = LinkFault.None;
                        // The cable is pulled a moment after the last byte went through (the device
                        // has taken it); an orderly end, so nothing sent is lost on the way.
                        await Task.Delay(300);
                        to.Shutdown(SocketShutdown.Both);
                        from.Shutdown(SocketShutdown.Both);
                        from.Dispose();
                        to.Dispose();
                        return;
                    }
                }
                else if (b == (byte)'\n')
                {
                    var match = LoadSize().Match(line.ToString());
                    if (match.Success)
                    {
                        payloadSize = payloadLeft = long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                        FirstPayloadSize = FirstPayloadSize == 0 ? payloadSize : FirstPayloadSize;
                    }
                    line.Clear();
                }
                else
                {
                    line.Append((char)b);
                }
                await to.SendAsync(new[] { b }, _stop.Token);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The relay ends with either side.
        }
        to.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }
        _stop.Dispose();
    }

    /// <summary>The payload that follows a LOAD (size=) or an XLOAD (zsize=, its stream).</summary>
    [GeneratedRegex(@"^(?:LOAD .*\bsize|XLOAD .*\bzsize)=(\d+)")]
    private static partial Regex LoadSize();

    [GeneratedRegex(@"^XLOAD_READY .*\boffset=(\d+)")]
    private static partial Regex XloadReadyOffset();
}
