using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Wasmorch.Gateway.Config;
using Wasmorch.Gateway.Telemetry;

namespace Wasmorch.Http;

/// <summary>
/// Sends the gateway's spans (<see cref="GatewayTracing"/>) to an OpenTelemetry collector over
/// OTLP/HTTP (protobuf, <c>&lt;endpoint&gt;/v1/traces</c>), in batches at most a second apart.
/// Without it no span is created at all.
/// </summary>
public static class TraceExport
{
    /// <summary>Starts exporting to <paramref name="uri"/> (http(s)://host:port, checked by <see cref="GatewayConfig.CheckOtlp"/>); dispose to flush and stop.</summary>
    public static TracerProvider Start(Uri uri, string serviceInstance)
    {
        var traces = new Uri(uri, uri.AbsolutePath.TrimEnd('/') + "/v1/traces");
        return Sdk.CreateTracerProviderBuilder()
            .ConfigureResource(resource => resource.AddService("wasmorch-gateway", serviceInstanceId: serviceInstance))
            .AddSource(GatewayTracing.SourceName)
            .AddOtlpExporter(otlp =>
            {
                otlp.Endpoint = traces;
                otlp.Protocol = OtlpExportProtocol.HttpProtobuf;
                otlp.ExportProcessorType = ExportProcessorType.Batch;
                otlp.BatchExportProcessorOptions = new BatchExportProcessorOptions<System.Diagnostics.Activity> { ScheduledDelayMilliseconds = 1000 };
            })
            .Build();
    }
}
