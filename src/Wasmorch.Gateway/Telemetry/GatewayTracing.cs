using System.Diagnostics;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Telemetry;

/// <summary>
/// The gateway's traces (docs/http.md, "Traces"), on .NET's System.Diagnostics activities: one span
/// per host request (<c>wasmorch {op}</c>) with a child for each part the CLI's latency breakdown
/// names: <c>compile</c>, <c>aot</c>, <c>transfer</c>, <c>device verify</c>, <c>device execution</c>.
/// An exporter (OTLP, when configured) listens to <see cref="SourceName"/>; with none listening, no
/// span is even created. In a fleet the trace context travels with a forwarded request, so one
/// request is one trace across gateways.
/// </summary>
public static class GatewayTracing
{
    public const string SourceName = "Wasmorch.Gateway";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>The span of a host request; null when nothing listens.</summary>
    public static Activity? StartRequest(HostRequest request)
    {
        var activity = Source.StartActivity($"wasmorch {request.Op ?? "?"}", ActivityKind.Server);
        if (activity is not null)
        {
            activity.SetTag("wasmorch.op", request.Op);
            activity.SetTag("wasmorch.device", request.Device);
            activity.SetTag("wasmorch.module_id", request.ModuleId);
        }
        return activity;
    }

    /// <summary>Ends a request's span with its outcome: ok, or the error code as the span's error.</summary>
    public static void Answered(Activity? activity, HostResponse response)
    {
        if (activity is null)
        {
            return;
        }
        activity.SetTag("wasmorch.outcome", response.Ok ? "ok" : response.Error?.Code);
        if (!response.Ok)
        {
            activity.SetStatus(ActivityStatusCode.Error, response.Error?.Code);
        }
        if (response.Gateway is { } gateway)
        {
            activity.SetTag("wasmorch.gateway", gateway);
        }
    }

    /// <summary>
    /// A part of the current request that was measured, not wrapped (the device's own verify time,
    /// which it reports): a child span ending at <paramref name="end"/> after <paramref name="duration"/>.
    /// </summary>
    public static void Measured(string name, DateTimeOffset end, TimeSpan duration)
    {
        using var activity = Source.StartActivity(name, ActivityKind.Internal, Activity.Current?.Context ?? default, startTime: end - duration);
        activity?.SetEndTime(end.UtcDateTime);
    }
}
