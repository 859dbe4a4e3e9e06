using System.Net.Sockets;

namespace Wasmorch.Transport;

/// <summary>The accept loop every TCP server here shares: sockets with Nagle off, until cancelled.</summary>
public static class TcpAcceptLoop
{
    /// <summary>Accepts until <paramref name="ct"/> is cancelled, handing each socket to <paramref name="onAccepted"/> in order.</summary>
    public static async Task RunAsync(TcpListener listener, Func<Socket, Task> onAccepted, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            socket.NoDelay = true;
            await onAccepted(socket);
        }
    }
}
