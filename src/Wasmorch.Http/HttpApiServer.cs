using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Wasmorch.Gateway;
using Wasmorch.Gateway.Api;
using Wasmorch.Gateway.Devices;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Http;

/// <summary>
/// The host API over HTTP (docs/http.md): <c>POST /api/{op}</c> takes the same JSON request as a
/// TCP host API line and answers the same JSON response (with an HTTP status from its error code);
/// read-only ops also answer <c>GET /api/{op}?device=…</c>. Live job events and log lines are
/// Server-Sent Events; <c>/openapi.json</c> describes it all. Same token as the TCP API, as a bearer
/// header; same TLS certificate; <see cref="RequestGuard"/> refuses cross-site requests and foreign
/// Host names. Everything goes through the gateway's <see cref="RequestDispatcher"/>.
/// </summary>
public sealed partial class HttpApiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly RequestDispatcher _dispatcher;
    private readonly GatewayEvents _events;
    private readonly ILogger _logger;

    /// <summary>Ops a GET may ask: they change nothing.</summary>
    internal static readonly HashSet<string> ReadOnlyOps = new(StringComparer.Ordinal)
    {
        HostOps.Status, HostOps.Devices, HostOps.Jobs, HostOps.Logs, HostOps.History, HostOps.Ping, HostOps.Diff, HostOps.Scan, HostOps.Events,
    };

    public HttpApiServer(HttpApiOptions options, RequestDispatcher dispatcher, GatewayEvents events, ILoggerFactory loggers)
    {
        _dispatcher = dispatcher;
        _events = events;
        _logger = loggers.CreateLogger("Wasmorch.Http");
        var guard = new RequestGuard(options.Token, options.Endpoint.Address, options.HostNames);
        var limiter = new ConnectionLimiter(options.MaxConnectionsPerPeer, _logger);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // SIGTERM and Ctrl-C belong to the gateway process, which stops this server with the rest;
        // Kestrel's default console lifetime would take them and stop only itself.
        builder.Services.AddSingleton<IHostLifetime, ProcessOwnedLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = HostJson.MaxRequestBytes;
            kestrel.Limits.MaxConcurrentConnections = options.MaxConnections;
            kestrel.Listen(options.Endpoint, listen =>
            {
                listen.Use(limiter.Wrap);
                if (options.Certificate is not null)
                {
                    listen.UseHttps(options.Certificate);
                }
            });
        });
        builder.Services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService("wasmorch-gateway")).WithMetrics(metrics => metrics.AddMeter(Gateway.Telemetry.GatewayMetrics.MeterName).AddPrometheusExporter());
        _app = builder.Build();
        // Before routing: host, cross-site, token and content type are checked on the raw request.
        _app.Use((context, next) => guard.InvokeAsync(context, () => next(context)));
        _app.MapPrometheusScrapingEndpoint();
        _app.MapGet("/openapi.json", (RequestDelegate)(context => WriteJsonAsync(context, 200, OpenApiDocument.For(dispatcher.Ops, ReadOnlyOps))));
        _app.MapGet("/api/logs/stream", (RequestDelegate)StreamLogsAsync);
        _app.MapGet("/api/published/stream", (RequestDelegate)StreamPublishedAsync);
        _app.MapGet("/api/jobs/stream", (RequestDelegate)(context => StreamEventsAsync(context, onlyJobs: true)));
        _app.MapGet("/api/events/stream", (RequestDelegate)(context => StreamEventsAsync(context, onlyJobs: false)));
        Dashboard.Map(_app);
        _app.MapPost("/api/{op}", (RequestDelegate)PostAsync);
        _app.MapGet("/api/{op}", (RequestDelegate)GetAsync);
    }

    /// <summary>Where it listens, once started (a port of 0 picks a free one).</summary>
    public IPEndPoint LocalEndpoint { get; private set; } = new(IPAddress.Loopback, 0);

    public async Task StartAsync(CancellationToken ct)
    {
        await _app.StartAsync(ct);
        var address = _app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var uri = new Uri(address);
        LocalEndpoint = new IPEndPoint(IPAddress.Parse(uri.Host.Trim('[', ']')), uri.Port);
        LogListening(_logger, LocalEndpoint);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "HTTP API listening on {Endpoint}")]
    private static partial void LogListening(ILogger logger, IPEndPoint endpoint);

    private async Task PostAsync(HttpContext context)
    {
        var op = (string)context.Request.RouteValues["op"]!;
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        if (!HostJson.TryParseRequest(body.GetBuffer().AsSpan(0, (int)body.Length), out var request, out var error))
        {
            await WriteJsonAsync(context, 400, Failure(HostErrorCodes.BadRequest, $"the body is not a host API request: {error}"));
            return;
        }
        if (request!.Op is { } named && named != op)
        {
            await WriteJsonAsync(context, 400, Failure(HostErrorCodes.BadRequest, $"the body says op '{named}' and the path '{op}'"));
            return;
        }
        request.Op = op;
        await AnswerAsync(context, request);
    }

    private async Task GetAsync(HttpContext context)
    {
        var op = (string)context.Request.RouteValues["op"]!;
        if (!ReadOnlyOps.Contains(op))
        {
            await WriteJsonAsync(context, 405, Failure(HostErrorCodes.BadRequest, $"GET answers only the ops that change nothing ({string.Join(", ", ReadOnlyOps)}); POST /api/{op} for '{op}'"));
            return;
        }
        var query = context.Request.Query;
        int? limit = null;
        if (query.TryGetValue("limit", out var limitText))
        {
            if (!int.TryParse(limitText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
            {
                await WriteJsonAsync(context, 400, Failure(HostErrorCodes.BadRequest, $"limit '{limitText}' is not a whole number"));
                return;
            }
            limit = parsed;
        }
        var unknown = query.Keys.FirstOrDefault(k => k is not ("device" or "module_id" or "limit" or "topic"));
        if (unknown is not null)
        {
            await WriteJsonAsync(context, 400, Failure(HostErrorCodes.BadRequest, $"unknown query parameter '{unknown}' (device, module_id, limit, topic)"));
            return;
        }
        await AnswerAsync(context, new HostRequest { Op = op, Device = Nullable(query["device"]), ModuleId = Nullable(query["module_id"]), Limit = limit, Topic = Nullable(query["topic"]) });
    }

    private static string? Nullable(Microsoft.Extensions.Primitives.StringValues value) => value.Count == 0 ? null : value.ToString();

    private async Task AnswerAsync(HttpContext context, HostRequest request)
    {
        // Progress events need a stream; over plain HTTP the answer is the final response.
        request.Progress = false;
        request.Follow = false;
        var response = await _dispatcher.HandleFromHostAsync(request, context.RequestAborted);
        await WriteJsonAsync(context, StatusOf(response), response);
    }

    /// <summary>The HTTP status of a host API response: its error code decides.</summary>
    public static int StatusOf(HostResponse response) => response.Ok ? 200 : response.Error?.Code switch
    {
        HostErrorCodes.BadRequest => 400,
        HostErrorCodes.Unauthorized => 401,
        HostErrorCodes.NotSigned or HostErrorCodes.BadSignature or HostErrorCodes.Forbidden => 403,
        HostErrorCodes.UnknownDevice => 404,
        HostErrorCodes.RolloutRunning => 409,
        HostErrorCodes.CompileError => 422,
        HostErrorCodes.Internal or HostErrorCodes.ProtocolError => 500,
        HostErrorCodes.Unsupported => 501,
        HostErrorCodes.DeviceUnreachable or HostErrorCodes.TooManyConnections => 503,
        HostErrorCodes.Timeout => 504,
        // The device refused (NO_MODULE, BUSY, TOO_LARGE, …) or the fleet did (DEVICE_CLAIMED).
        _ => 409,
    };

    private async Task StreamLogsAsync(HttpContext context)
    {
        var device = Nullable(context.Request.Query["device"]);
        await StartStreamAsync(context);
        await _dispatcher.FollowAsync(new HostRequest { Op = HostOps.Logs, Device = device, Follow = true },
            e => SendEventAsync(context, e.Event ?? "log", e), context.RequestAborted);
    }

    /// <summary>What modules publish (docs/protocol.md §6c): <c>event: events</c> with the recent ones, then <c>event: published</c> per event.</summary>
    private async Task StreamPublishedAsync(HttpContext context)
    {
        var request = new HostRequest { Op = HostOps.Events, Device = Nullable(context.Request.Query["device"]), Topic = Nullable(context.Request.Query["topic"]), Follow = true };
        await StartStreamAsync(context);
        await _dispatcher.FollowAsync(request, e => SendEventAsync(context, e.Event ?? "published", e), context.RequestAborted);
    }

    private async Task StreamEventsAsync(HttpContext context, bool onlyJobs)
    {
        var device = Nullable(context.Request.Query["device"]);
        await StartStreamAsync(context);
        try
        {
            await foreach (var change in _events.FollowAsync(context.RequestAborted))
            {
                if ((device is null || change.Device == device) && (!onlyJobs || change.Event == "job"))
                {
                    await SendEventAsync(context, change.Event!, change);
                }
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The follower went away.
        }
    }

    private static async Task StartStreamAsync(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        await context.Response.WriteAsync(": wasmorch\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static async Task SendEventAsync(HttpContext context, string name, HostResponse data)
    {
        await context.Response.WriteAsync($"event: {name}\ndata: ", context.RequestAborted);
        await context.Response.Body.WriteAsync(HostJson.Serialize(data), context.RequestAborted);
        await context.Response.WriteAsync("\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static HostResponse Failure(string code, string message) => new() { Ok = false, Error = new HostError { Code = code, Message = message } };

    internal static async Task WriteJsonAsync(HttpContext context, int status, HostResponse response)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(HostJson.Serialize(response), context.RequestAborted);
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, byte[] json)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(json, context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
