using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Wasmorch.Http;

/// <summary>
/// The web dashboard (docs/http.md): static files built into the executable (no CDN, no
/// build step), talking to the gateway's own HTTP API and its event streams. The page is public;
/// everything it shows or does goes through <c>/api</c>, which asks for the token.
/// </summary>
public static class Dashboard
{
    private static readonly (string Path, string Resource, string ContentType)[] Files =
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/dashboard/charts.js", "charts.js", "text/javascript; charset=utf-8"),
        ("/dashboard/pages.js", "pages.js", "text/javascript; charset=utf-8"),
        ("/dashboard/app.js", "app.js", "text/javascript; charset=utf-8"),
        ("/dashboard/app.css", "app.css", "text/css; charset=utf-8"),
    ];

    /// <summary>The dashboard's paths: public, like <c>/openapi.json</c> (<see cref="RequestGuard"/>).</summary>
    internal static IEnumerable<string> Paths => Files.Select(f => f.Path);

    public static void Map(IEndpointRouteBuilder app)
    {
        foreach (var (path, resource, contentType) in Files)
        {
            var bytes = Load(resource);
            app.MapGet(path, (RequestDelegate)(async context =>
            {
                context.Response.ContentType = contentType;
                context.Response.Headers.CacheControl = "no-cache";
                // The page runs only what it ships: no inline script, nothing from elsewhere.
                context.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";
                context.Response.Headers.XContentTypeOptions = "nosniff";
                await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
            }));
        }
    }

    private static byte[] Load(string name)
    {
        using var stream = typeof(Dashboard).Assembly.GetManifestResourceStream("dashboard/" + name)
            ?? throw new InvalidOperationException($"the dashboard's {name} is not built into {typeof(Dashboard).Assembly.GetName().Name}");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
