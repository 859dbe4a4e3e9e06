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
            _ = RelayAsync(upstream, client);
        }
    }

    private async Task RelayAsync(Socket from, Socket to)
    {
        var buffer = new byte[4096];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, _stop.Token)) > 0)
            {
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
                }
                else if (b == (byte)'\n')
                {
                    var match = LoadSize().Match(line.ToString());
                    if (match.Success)
                    {
                        payloadSize = payloadLeft = long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
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

    [GeneratedRegex(@"^LOAD .*\bsize=(\d+)")]
    private static partial Regex LoadSize();
}
