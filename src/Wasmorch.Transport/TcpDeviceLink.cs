using System.Net.Sockets;

namespace Wasmorch.Transport;

/// <summary>A device behind TCP: an emulated board, Renode's UART bridge, QEMU's serial port.</summary>
public sealed class TcpDeviceLink : IDeviceLink
{
    private readonly string _host;
    private readonly int _port;
    private readonly TimeSpan _connectTimeout;

    public TcpDeviceLink(string host, int port, TimeSpan connectTimeout)
    {
        _host = host;
        _port = port;
        _connectTimeout = connectTimeout;
    }

    public string Description => $"tcp://{_host}:{_port}";

    public async Task<Stream> OpenAsync(CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_connectTimeout);
        try
        {
            await socket.ConnectAsync(_host, _port, deadline.Token);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new LinkUnavailableException($"cannot connect to {Description}: {ex.Message}");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            socket.Dispose();
            throw new LinkUnavailableException($"cannot connect to {Description}: no answer within {_connectTimeout.TotalMilliseconds:0} ms");
        }
    }
}
