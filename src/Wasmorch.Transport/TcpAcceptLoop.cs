using System.Net.Sockets;

namespace Wasmorch.Transport;

/// <summary>The accept loop every TCP server here shares: sockets with Nagle off, until cancelled.</summary>
public static class TcpAcceptLoop
{
    /// <summary>The longest pause after failed accepts in a row.</summary>
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Accepts until <paramref name="ct"/> is cancelled, handing each socket to
    /// <paramref name="onAccepted"/> in order. An accept that fails (out of file descriptors:
    /// EMFILE/ENFILE, a peer that reset before it was taken, …) is reported to
    /// <paramref name="onError"/> and tried again after a pause that doubles up to a second, so a
    /// flood of connections can make a server slow to accept but never stops it for good.
    /// </summary>
    public static async Task RunAsync(TcpListener listener, Func<Socket, Task> onAccepted, Action<Exception> onError, CancellationToken ct)
    {
        var backoff = TimeSpan.Zero;
        while (!ct.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await listener.AcceptSocketAsync(ct);
                backoff = TimeSpan.Zero;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                if (ct.IsCancellationRequested)
                {
                    return;
                }
                onError(ex);
                backoff = backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(10) : backoff * 2 > MaxBackoff ? MaxBackoff : backoff * 2;
                try
                {
                    await Task.Delay(backoff, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            try
            {
                socket.NoDelay = true;
            }
            catch (SocketException ex)
            {
                // Reset between accept and here: nothing to serve.
                onError(ex);
                socket.Dispose();
                continue;
            }
            await onAccepted(socket);
        }
    }
}
