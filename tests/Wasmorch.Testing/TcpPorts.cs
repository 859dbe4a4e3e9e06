using System.Net;
using System.Net.Sockets;

namespace Wasmorch.Testing;

public static class TcpPorts
{
    /// <summary>A loopback port nothing listens on right now (for a server a test starts, or a dead endpoint).</summary>
    public static int Unused()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
