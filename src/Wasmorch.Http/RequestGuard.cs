using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Http;

/// <summary>
/// What every HTTP request passes before any route sees it (docs/http.md, docs/security.md), so that
/// no rule depends on how routing matches a path:
/// <list type="number">
/// <item>the <c>Host</c> header names this gateway (an IP address, <c>localhost</c> on a loopback or
/// any-address listener, or a configured name): a page on another name that DNS rebinding pointed at
/// this address is refused;</item>
/// <item>no cross-site request: a browser's <c>Sec-Fetch-Site</c> must be <c>same-origin</c> or
/// <c>none</c> and an <c>Origin</c> must be this gateway's own (only a top-level visit to the
/// dashboard's page may come from a link elsewhere);</item>
/// <item>the token, for every path but the dashboard's files and <c>/openapi.json</c> (matched
/// exactly: <c>/METRICS</c> is not public, it needs the token like <c>/metrics</c>);</item>
/// <item>a <c>POST</c> body is <c>application/json</c>: what a cross-site form or a no-cors fetch can
/// send (text/plain, form data) is refused, and JSON from another origin needs a preflight that
/// this server never grants.</item>
/// </list>
/// Every answer also forbids framing (clickjacking).
/// </summary>
internal sealed class RequestGuard
{
    /// <summary>Paths anyone may fetch: they describe and draw, and everything they do goes through /api.</summary>
    private static readonly HashSet<string> PublicPaths = new([.. Dashboard.Paths, "/openapi.json"], StringComparer.Ordinal);

    private readonly byte[]? _token;
    private readonly IPAddress _listenAddress;
    private readonly HashSet<string> _hostNames;

    public RequestGuard(string? token, IPAddress listenAddress, IEnumerable<string> hostNames)
    {
        _token = token is null ? null : Encoding.UTF8.GetBytes(token);
        _listenAddress = listenAddress;
        _hostNames = new HashSet<string>(hostNames, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The middleware: refuses with a JSON host API error, or passes the request on.</summary>
    public Task InvokeAsync(HttpContext context, Func<Task> next)
    {
        var headers = context.Response.Headers;
        headers.XFrameOptions = "DENY";
        headers.ContentSecurityPolicy = "frame-ancestors 'none'";
        if (Refusal(context.Request) is not { } refusal)
        {
            return next();
        }
        return HttpApiServer.WriteJsonAsync(context, refusal.Status, new HostResponse { Ok = false, Error = new HostError { Code = refusal.Code, Message = refusal.Message } });
    }

    /// <summary>Why the request is refused (status, host API error code, message), or null.</summary>
    public (int Status, string Code, string Message)? Refusal(HttpRequest request)
    {
        if (!HostAllowed(request.Host))
        {
            return (421, HostErrorCodes.Forbidden,
                $"Host '{request.Host}' is not a name of this gateway (an IP address, localhost, or [gateway] http_hosts): refused, so that a page cannot reach the gateway through a name it controls (DNS rebinding)");
        }
        var publicPath = PublicPaths.Contains(request.Path.Value ?? "");
        var navigation = HttpMethods.IsGet(request.Method) && publicPath;
        if (!navigation && CrossSite(request) is { } crossSite)
        {
            return (403, HostErrorCodes.Forbidden, $"cross-site request refused ({crossSite}): the API answers only the gateway's own pages and clients that are not browsers");
        }
        if (!publicPath && !Authorized(request))
        {
            return (401, HostErrorCodes.Unauthorized, "this gateway needs its token: Authorization: Bearer <token>");
        }
        if (HttpMethods.IsPost(request.Method) && !IsJson(request.ContentType))
        {
            return (415, HostErrorCodes.BadRequest, $"a POST body must be Content-Type: application/json, not '{request.ContentType ?? "none"}'");
        }
        return null;
    }

    private bool HostAllowed(HostString host)
    {
        if (!host.HasValue)
        {
            return false;
        }
        var name = host.Host;
        if (IPAddress.TryParse(name.Trim('[', ']'), out var address))
        {
            // An address cannot be rebound: the page that uses it came from it.
            return _listenAddress.Equals(IPAddress.Any) || _listenAddress.Equals(IPAddress.IPv6Any) || address.Equals(_listenAddress);
        }
        if (string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.IsLoopback(_listenAddress) || _listenAddress.Equals(IPAddress.Any) || _listenAddress.Equals(IPAddress.IPv6Any);
        }
        return _hostNames.Contains(name);
    }

    /// <summary>What makes the request cross-site, or null: Fetch Metadata first, then Origin (older browsers).</summary>
    private static string? CrossSite(HttpRequest request)
    {
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0 && site is not ("same-origin" or "none"))
        {
            return $"Sec-Fetch-Site: {site}";
        }
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return null;
        }
        var own = $"{request.Scheme}://{request.Host}";
        return string.Equals(origin, own, StringComparison.OrdinalIgnoreCase) ? null : $"Origin: {origin}";
    }

    /// <summary>The bearer header (or, for a stream a browser's EventSource opens, <c>?token=</c>), compared in constant time.</summary>
    private bool Authorized(HttpRequest request)
    {
        if (_token is null)
        {
            return true;
        }
        var header = request.Headers.Authorization.ToString();
        var given = header.StartsWith("Bearer ", StringComparison.Ordinal) ? header["Bearer ".Length..].Trim()
            : HttpMethods.IsGet(request.Method) && request.Path.Value!.EndsWith("/stream", StringComparison.Ordinal) ? request.Query["token"].ToString()
            : "";
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), _token);
    }

    private static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var parsed) && parsed.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);
}
