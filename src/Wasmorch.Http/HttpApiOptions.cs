using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Wasmorch.Http;

/// <summary>How the HTTP API listens and whom it answers (docs/http.md).</summary>
public sealed record HttpApiOptions(IPEndPoint Endpoint)
{
    /// <summary>The gateway's token: every path but the dashboard's files and /openapi.json needs it.</summary>
    public string? Token { get; init; }

    /// <summary>The host API's certificate: HTTPS with it, no plain HTTP.</summary>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>DNS names the Host header may carry besides IP addresses and localhost (<c>[gateway] http_hosts</c>).</summary>
    public IReadOnlyList<string> HostNames { get; init; } = [];

    /// <summary>HTTP connections at once, event streams included (<c>[gateway] max_connections</c>).</summary>
    public int MaxConnections { get; init; } = 256;

    /// <summary>HTTP connections from one address (<c>[gateway] max_connections_per_peer</c>).</summary>
    public int MaxConnectionsPerPeer { get; init; } = 64;
}
