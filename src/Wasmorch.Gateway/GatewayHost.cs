using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Wasmorch.Gateway.Api;
using Wasmorch.Gateway.Build;
using Wasmorch.Gateway.Config;
using Wasmorch.Gateway.Devices;
using Wasmorch.Gateway.State;
using Wasmorch.Transport;

namespace Wasmorch.Gateway;

/// <summary>The gateway process: device registry, compiler and host API server, wired together.</summary>
public sealed partial class GatewayHost : IAsyncDisposable
{
    private readonly DeviceRegistry _devices;
    private readonly HostApiServer _server;
    private readonly BuildService _build;
    private readonly GatewayState? _state;
    private readonly Fleet.IFleet? _fleet;

    /// <summary>Keeps devices at the desired state (null without a state file, which keeps it).</summary>
    private readonly Desired.Reconciler? _reconciler;

    /// <summary>Staged rollouts (null without a state file, which keeps them).</summary>
    private readonly Rollouts.RolloutEngine? _rollouts;
    private readonly RequestDispatcher _dispatcher;
    private readonly bool _keepLinks;
    private Task _keeping = Task.CompletedTask;

    /// <param name="fleet">The fleet this gateway joins (<see cref="JoinFleetAsync"/>), or null for a gateway on its own.</param>
    public GatewayHost(GatewayConfig config, ILoggerFactory loggers, Fleet.IFleet? fleet = null)
    {
        _fleet = fleet;
        _fleetTimings = config.FleetTimings;
        _loggers = loggers;
        var address = config.CheckListen();
        if (config.StatePath != "off")
        {
            var path = config.StatePath ?? GatewayState.DefaultPath(config.Port);
            try
            {
                _state = GatewayState.Open(path, loggers.CreateLogger("Wasmorch.Gateway.State"));
            }
            catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or IOException or UnauthorizedAccessException)
            {
                throw new ConfigException($"cannot open the state file {path}: {ex.Message}");
            }
        }
        if (config.LinkKeyPath != "off")
        {
            try
            {
                config.LinkKey ??= LinkKeyFile.LoadOrCreate(config.LinkKeyPath ?? LinkKeyFile.DefaultPath());
            }
            catch (LinkKeyException ex)
            {
                throw new ConfigException(ex.Message);
            }
        }
        _keepLinks = config.KeepLinks;
        Metrics = new Telemetry.GatewayMetrics(() => _build?.CompilesWaiting ?? 0, name => _devices?.Contains(name) == true);
        _reconciler = _state is null ? null : new Desired.Reconciler(_state, loggers.CreateLogger("Wasmorch.Gateway.Desired"));
        _devices = new DeviceRegistry(config, loggers.CreateLogger("Wasmorch.Gateway.Devices"), _state,
            DeviceObservers.Of(fleet is null ? null : new Fleet.FleetJobRecorder(fleet), _reconciler, Events, Metrics));
        _reconciler?.Attach(_devices);
        if (fleet is not null)
        {
            _devices.Logs.Added += entry =>
            {
                entry.Gateway = fleet.GatewayName;
                fleet.PublishLog(entry);
            };
            _devices.Events.Added += entry =>
            {
                entry.Gateway = fleet.GatewayName;
                fleet.PublishEvent(entry);
            };
            Events.GatewayName = fleet.GatewayName;
            Events.Published += fleet.PublishChange;
        }
        var sandbox = config.Sandbox == "off" ? Sandbox.Off : Sandbox.Bubblewrap();
        _build = new BuildService(
            ModuleCompilers.Create(config.BuildTools, config.CompileTimeout, sandbox),
            new AotCompiler(config.Wamrc, config.CompileTimeout, sandbox),
            Cache(config, loggers.CreateLogger("Wasmorch.Gateway.Build")),
            _state,
            new CompileSlots(config.MaxParallelCompiles ?? CompileSlots.DefaultParallel(Sandbox.MemoryBytes)))
        {
            Shared = fleet as ISharedArtifacts,
        };
        var signatures = new Signing.ModuleSignatures(config.TrustedKeys);
        _rollouts = _state is null ? null : new Rollouts.RolloutEngine(_devices, _state, _build, signatures, config, loggers.CreateLogger("Wasmorch.Gateway.Rollouts"), fleet, _reconciler);
        _dispatcher = new RequestDispatcher(_devices, _build, config, signatures, fleet, _reconciler, _rollouts, Metrics);
        Operations = new Operations.DeviceOperations(_devices, config, fleet) { ServeHere = _dispatcher.ServeHereAsync };
        if (_reconciler is not null)
        {
            _reconciler.Operations = Operations;
        }
        if (_rollouts is not null)
        {
            _rollouts.Changed = Events.RolloutChanged;
            _rollouts.Operations = Operations;
        }
        Certificate = config.LoadTlsCertificate();
        _server = new HostApiServer(new IPEndPoint(address, config.Port), _dispatcher, loggers.CreateLogger("Wasmorch.Gateway.Api"), config.Token, config.MaxConnections, Certificate, config.MaxConnectionsPerPeer)
        {
            IdleTimeout = config.IdleTimeout,
            PartialRequestTimeout = config.PartialRequestTimeout,
        };
    }

    /// <summary>Typed operations on any device of this gateway or its fleet (docs/architecture.md).</summary>
    public Operations.IDeviceOperations Operations { get; }

    public IPEndPoint LocalEndpoint => _server.LocalEndpoint;

    /// <summary>The gateway's request handling, for another front door (the HTTP API) than the TCP host API.</summary>
    public RequestDispatcher Dispatcher => _dispatcher;

    /// <summary>What the gateway counts and times (an exporter reads its meter).</summary>
    public Telemetry.GatewayMetrics Metrics { get; }

    /// <summary>What happens on this gateway's devices: jobs, modules, links.</summary>
    public GatewayEvents Events { get; } = new();

    /// <summary>The log lines of this gateway's devices.</summary>
    public LogHub Logs => _devices.Logs;

    /// <summary>The certificate of the host API, when it is served over TLS (the HTTP API uses the same).</summary>
    public X509Certificate2? Certificate { get; }

    public bool Tls => Certificate is not null;

    public void Start()
    {
        _server.Start();
        // Devices converge to the desired state the state file keeps, from the start.
        _reconciler?.Start();
        // A rollout that was running when the gateway stopped carries on.
        _rollouts?.Start();
        if (_fleet is null)
        {
            KeepLinks();
        }
        // The compiler's identity is part of every cache key: learn it now, so that the first
        // build's compile_ms is not the time of `clang --version` on a cache hit.
        _ = _build.Clang.IdentityAsync();
    }

    /// <summary>
    /// Claims this gateway's devices in the fleet and serves the requests other gateways forward
    /// here; a device another gateway owns fails it (<see cref="GatewayException"/>).
    /// </summary>
    public async Task JoinFleetAsync(CancellationToken ct)
    {
        if (_fleet is null)
        {
            return;
        }
        await _fleet.JoinAsync(_devices.Names, _devices.MapLabelsOf, _dispatcher.HandleForwardedAsync, ct);
        // Only now: a gateway whose claims the fleet refused must not have taken a board's link over.
        KeepLinks();
        if (_reconciler is not null)
        {
            // The fleet's desired state, as it is now and from then on, for this gateway's devices.
            _following = new Fleet.FleetDesiredFollower(_fleet, _reconciler, _dispatcher.HandleForwardedAsync, _fleetTimings, _loggers.CreateLogger("Wasmorch.Gateway.Desired"))
                .RunAsync(_stopFollowing.Token);
        }
        // The dashboard of any gateway shows the whole fleet live. Supervised: a failure the relay
        // does not name is logged and the relay started again, not lost with a faulted task.
        var fleet = _fleet;
        _relaying = Supervision.LoopSupervisor.RunAsync("fleet change relay", c => RelayChangesAsync(fleet, c), _loggers.CreateLogger("Wasmorch.Fleet"), _stopFollowing.Token);
    }

    private async Task RelayChangesAsync(Fleet.IFleet fleet, CancellationToken ct)
    {
        await foreach (var change in fleet.FollowChangesAsync(ct))
        {
            Events.Relay(change);
        }
    }

    /// <summary>Links open now, not at first use: the device map says what each board is from the start.</summary>
    private void KeepLinks()
    {
        if (_keepLinks)
        {
            _keeping = LinkKeeper.RunAsync(_devices.Sessions, _loggers.CreateLogger("Wasmorch.Gateway.Devices"), _stopFollowing.Token);
        }
    }

    /// <summary>[fleet] timings, for the follower of the fleet's desired state.</summary>
    private readonly Fleet.FleetTimings _fleetTimings;

    private Task _relaying = Task.CompletedTask;

    private Task _following = Task.CompletedTask;
    private readonly CancellationTokenSource _stopFollowing = new();
    private readonly ILoggerFactory _loggers;

    /// <summary>Resolves once everything recorded so far (the device map at start-up, say) is committed.</summary>
    public Task FlushStateAsync() => _state?.FlushAsync() ?? Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        await _stopFollowing.CancelAsync();
        await _following;
        await _relaying;
        await _keeping;
        _stopFollowing.Dispose();
        if (_rollouts is not null)
        {
            await _rollouts.DisposeAsync();
        }
        if (_reconciler is not null)
        {
            await _reconciler.DisposeAsync();
        }
        if (_fleet is not null)
        {
            await _fleet.DisposeAsync();
        }
        await _devices.DisposeAsync();
        _build.Dispose();
        Metrics.Dispose();
        if (_state is not null)
        {
            await _state.DisposeAsync();
        }
    }

    /// <summary>The state file in use (null when running without one).</summary>
    public string? StatePath => _state?.Path;

    private static ArtifactCache Cache(GatewayConfig config, ILogger logger)
    {
        var cache = new ArtifactCache(config.CacheDirectory, config.CacheCapBytes);
        cache.Discarded += (key, reason) => LogCacheDiscarded(logger, key, reason);
        return cache;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Artifact cache: discarded {Key}: {Reason}; it is built again")]
    private static partial void LogCacheDiscarded(ILogger logger, string key, string reason);
}
