using System.Net;

namespace Wasmorch.Gateway.Config;

/// <summary>
/// The rules a configuration must meet before the gateway serves, in one place: the start refuses
/// on the first broken one (exit 2) and <c>--check-config</c> prints every one, so the check cannot
/// say "ok" for what the start then refuses.
/// </summary>
public sealed partial class GatewayConfig
{
    /// <summary>One rule's outcome: what it is about, and the problem (null) or what it found.</summary>
    public sealed record StartCheck(string Subject, string? Problem, string Found);

    /// <summary>Every rule of the start, each run on its own (one broken rule hides no other).</summary>
    public IReadOnlyList<StartCheck> Validate()
    {
        var checks = new List<StartCheck>
        {
            Check("listen", () =>
            {
                CheckListen();
                return $"{BindAddress}:{Port}{(Token is null ? " (no token: loopback only)" : " (token required)")}";
            }),
        };
        if (Http is not null)
        {
            checks.Add(Check("http", () => $"{CheckHttp()}{(HttpHosts.Count == 0 ? "" : $" (also named {string.Join(", ", HttpHosts)})")}"));
        }
        if (Otlp is not null)
        {
            checks.Add(Check("otlp", () => CheckOtlp().ToString()));
        }
        if (TrustedKeys.Count > 0)
        {
            checks.Add(Check("signing", () => $"{new Signing.ModuleSignatures(TrustedKeys).TrustedCount} trusted key(s)"));
        }
        if (FleetNats is not null || FleetGatewayName is not null)
        {
            checks.Add(Check("fleet name", CheckFleet));
        }
        if (LinkKeyPath != "off")
        {
            checks.Add(Check("link key", CheckLinkKeyPath));
        }
        return checks;
    }

    private static StartCheck Check(string subject, Func<string> rule)
    {
        try
        {
            return new StartCheck(subject, null, rule());
        }
        catch (ConfigException ex)
        {
            return new StartCheck(subject, ex.Message, "");
        }
    }

    /// <summary>The HTTP API's address:port (<c>--http</c>, <c>[gateway] http</c>): an IP address, and off loopback a token (or --insecure), as for the TCP host API.</summary>
    public IPEndPoint? CheckHttp()
    {
        if (Http is not { } text)
        {
            return null;
        }
        if (!IPEndPoint.TryParse(text, out var endpoint) || !text.Contains(':', StringComparison.Ordinal))
        {
            throw new ConfigException($"http '{text}' is not address:port with an IP address (for instance 127.0.0.1:9080; names go in [gateway] http_hosts)");
        }
        if (!IPAddress.IsLoopback(endpoint.Address) && (Token ?? EnvironmentToken()) is null && !Insecure)
        {
            throw new ConfigException(
                $"refusing to serve HTTP on {endpoint} without a token: anyone who reaches it could run code on your boards. Set [gateway] token or WASMORCH_TOKEN, or pass --insecure on a network you trust.");
        }
        foreach (var name in HttpHosts)
        {
            if (Uri.CheckHostName(name) != UriHostNameType.Dns)
            {
                throw new ConfigException($"[gateway] http_hosts: '{name}' is not a DNS name (IP addresses and localhost need no entry)");
            }
        }
        return endpoint;
    }

    /// <summary>The OTLP/HTTP collector (<c>--otlp</c>, <c>[gateway] otlp</c>): an absolute http(s) URL.</summary>
    public Uri CheckOtlp()
    {
        if (Otlp is not { } endpoint || !Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            throw new ConfigException($"otlp '{Otlp}' is not an OTLP/HTTP collector URL with its scheme (for instance http://127.0.0.1:4318)");
        }
        return uri;
    }

    /// <summary>A fleet needs both the server and this gateway's name; names are single NATS subject tokens.</summary>
    private string CheckFleet()
    {
        if (FleetNats is null)
        {
            throw new ConfigException("a fleet name for this gateway (--name, [fleet] name) needs the fleet's NATS server (--nats, [fleet] nats)");
        }
        if (FleetGatewayName is null)
        {
            throw new ConfigException("joining a fleet needs this gateway's name in it: --name or [fleet] name");
        }
        foreach (var (what, name) in new[] { ("gateway name", FleetGatewayName), ("fleet", FleetName) })
        {
            if (!Fleet.FleetNames.IsValid(name))
            {
                throw new ConfigException($"{what} '{name}' must be 1 to 64 of A-Z a-z 0-9 _ - (it is a NATS subject token: no '.', '*' or '>')");
            }
        }
        return $"gateway {FleetGatewayName} in fleet {FleetName}";
    }

    /// <summary>The link key file loads, or can be created where it is named (nothing is created here).</summary>
    private string CheckLinkKeyPath()
    {
        var path = Path.GetFullPath(LinkKeyPath ?? Transport.LinkKeyFile.DefaultPath());
        if (File.Exists(path))
        {
            try
            {
                Transport.LinkKeyFile.Load(path);
                return path;
            }
            catch (Transport.LinkKeyException ex)
            {
                throw new ConfigException(ex.Message);
            }
        }
        if (Directory.Exists(path))
        {
            throw new ConfigException($"link key {path} is a directory, not a key file");
        }
        // The nearest folder that exists must be a folder: a path through a file can never exist.
        for (var dir = Path.GetDirectoryName(path); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (Directory.Exists(dir))
            {
                return $"{path} (will be created)";
            }
            if (File.Exists(dir))
            {
                throw new ConfigException($"link key {path} cannot be created: {dir} is a file, not a folder");
            }
        }
        throw new ConfigException($"link key {path} cannot be created: no folder of its path exists");
    }
}
