using System.Diagnostics.Metrics;
using Wasmorch.Gateway.Devices;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Agent.Replies;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Telemetry;

/// <summary>
/// What the gateway counts and times (docs/http.md, "Metrics"), on .NET's System.Diagnostics.Metrics
/// under the meter <see cref="MeterName"/>: an exporter (OpenTelemetry's Prometheus endpoint in the
/// HTTP API) reads them; with none listening, recording costs next to nothing. Requests are
/// recorded as answered (op, device, outcome), device events as a device observer.
/// </summary>
public sealed class GatewayMetrics : IDeviceObserver, IDisposable
{
    public const string MeterName = "Wasmorch.Gateway";

    private readonly Meter _meter = new(MeterName);
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _requestSeconds;
    private readonly Histogram<double> _deviceSeconds;
    private readonly Histogram<double> _compileSeconds;
    private readonly Counter<long> _compiles;
    private readonly Counter<long> _uploadBytes;
    private readonly Histogram<double> _uploadRate;
    private readonly UpDownCounter<long> _inFlight;
    private readonly Counter<long> _connects;
    private readonly Counter<long> _disconnects;
    private readonly Counter<long> _resets;
    private readonly Counter<long> _jobs;

    /// <summary>From a device's sub-millisecond STATUS to a minute-long build: the exporter's default buckets are for milliseconds.</summary>
    private static readonly InstrumentAdvice<double> Seconds = new()
    {
        HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    };

    /// <summary>What a request names that is not one of the gateway's devices or ops: one series for them all.</summary>
    public const string Other = "other";

    /// <summary>The label values an op may have: the host API's ops.</summary>
    private static readonly HashSet<string> KnownOps = new(StringComparer.Ordinal)
    {
        HostOps.Deploy, HostOps.BuildAndDeploy, HostOps.Start, HostOps.Stop, HostOps.Status, HostOps.Devices, HostOps.Ping, HostOps.Unload,
        HostOps.Logs, HostOps.Scan, HostOps.Jobs, HostOps.History, HostOps.Rollback, HostOps.Apply, HostOps.Diff, HostOps.Rollout, HostOps.Events, HostOps.Sim,
    };

    private readonly Func<string, bool> _isOwnDevice;

    /// <param name="compilesWaiting">The compile queue's depth, read when metrics are collected.</param>
    /// <param name="isOwnDevice">Whether a name is one of this gateway's devices: only those (and devices another gateway of the fleet answered for) become labels.</param>
    public GatewayMetrics(Func<int> compilesWaiting, Func<string, bool> isOwnDevice)
    {
        _isOwnDevice = isOwnDevice;
        _requests = _meter.CreateCounter<long>("wasmorch.requests", description: "Host API requests answered, by op, device and outcome (ok or the error code)");
        _requestSeconds = _meter.CreateHistogram("wasmorch.request.duration", "s", "Time to answer a host API request, as the gateway sees it", advice: Seconds);
        _deviceSeconds = _meter.CreateHistogram("wasmorch.device.duration", "s", "The device's part of a request (from the request to the device to its reply)", advice: Seconds);
        _compileSeconds = _meter.CreateHistogram("wasmorch.compile.duration", "s", "Time to build a module (clang, AOT), cache hits included", advice: Seconds);
        _compiles = _meter.CreateCounter<long>("wasmorch.compiles", description: "Builds, by cache: hit (no compile) or miss");
        _uploadBytes = _meter.CreateCounter<long>("wasmorch.upload", "By", "Module bytes sent to devices");
        _uploadRate = _meter.CreateHistogram("wasmorch.upload.rate", "By/s", "Upload rate of each module sent (bytes over transfer time)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1_000, 5_000, 11_520, 50_000, 100_000, 1_000_000, 10_000_000, 100_000_000] });
        _inFlight = _meter.CreateUpDownCounter<long>("wasmorch.requests.in_flight", description: "Host API requests being answered now");
        _meter.CreateObservableGauge("wasmorch.compile.queue", compilesWaiting, description: "Builds waiting for a compile slot");
        _connects = _meter.CreateCounter<long>("wasmorch.device.connects", description: "Device links established (HELLO answered)");
        _disconnects = _meter.CreateCounter<long>("wasmorch.device.disconnects", description: "Device links lost");
        _resets = _meter.CreateCounter<long>("wasmorch.device.resets", description: "Devices that restarted under the gateway (DEVICE_RESET)");
        _jobs = _meter.CreateCounter<long>("wasmorch.jobs", description: "Jobs ended, by final status");
    }

    /// <summary>A request has come in; dispose the result when it is answered.</summary>
    public InFlight Begin() => new(_inFlight);

    public readonly struct InFlight : IDisposable
    {
        private readonly UpDownCounter<long> _counter;

        public InFlight(UpDownCounter<long> counter)
        {
            _counter = counter;
            _counter.Add(1);
        }

        public void Dispose() => _counter?.Add(-1);
    }

    public void Answered(HostRequest request, HostResponse response)
    {
        // Labels come from a bounded set: a client naming 20,000 made-up devices or ops makes one
        // "other" series, not 20,000 (which would push real series into the exporter's overflow).
        var op = new KeyValuePair<string, object?>("op", request.Op is { } named && KnownOps.Contains(named) ? named : Other);
        var device = new KeyValuePair<string, object?>("device",
            request.Device is not { } name ? "-" : _isOwnDevice(name) || response.Gateway is not null ? name : Other);
        var outcome = new KeyValuePair<string, object?>("outcome", response.Ok ? "ok" : response.Error?.Code ?? "?");
        _requests.Add(1, op, device, outcome);
        if (response.Timing is not { } timing)
        {
            return;
        }
        _requestSeconds.Record(timing.GatewayMs / 1000, op, outcome);
        if (timing.DeviceMs is { } deviceMs)
        {
            _deviceSeconds.Record(deviceMs / 1000, op, device);
        }
        if (timing.CompileMs is { } compileMs)
        {
            _compileSeconds.Record(compileMs / 1000);
        }
        if (response.CacheHit is { } hit)
        {
            _compiles.Add(1, new KeyValuePair<string, object?>("cache", hit ? "hit" : "miss"));
        }
        if (response.Ok && response.UploadSkipped != true && request.Op is HostOps.Deploy or HostOps.BuildAndDeploy or HostOps.Rollback && response.Size is { } size)
        {
            _uploadBytes.Add(size, device);
            if (timing.TransferMs is > 0 and var transferMs)
            {
                _uploadRate.Record(size / (transferMs / 1000), device);
            }
        }
    }

    public void Connected(string device, string agent) => _connects.Add(1, new KeyValuePair<string, object?>("device", device));

    public void LinkLost(string device, string reason) => _disconnects.Add(1, new KeyValuePair<string, object?>("device", device));

    public void Reset(string device, string reason) => _resets.Add(1, new KeyValuePair<string, object?>("device", device));

    public void JobEnded(string device, long job, JobResult result) =>
        _jobs.Add(1, new KeyValuePair<string, object?>("status", result.StatusText), new KeyValuePair<string, object?>("device", device));

    public void JobStarted(string device, long job, string moduleId, string func, string? args)
    {
    }

    public void Mapped(string device, string endpoint)
    {
    }

    public void StatusReported(string device, StatusReport status)
    {
    }

    public Task ModuleLoadedAsync(string device, HeldModule held) => Task.CompletedTask;

    public void ModuleHeld(string device, HeldModule held)
    {
    }

    public void ModuleUnloaded(string device, string moduleId)
    {
    }

    public void Dispose() => _meter.Dispose();
}
