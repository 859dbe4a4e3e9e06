using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Wasmorch.Gateway.Devices;
using Wasmorch.Gateway.Operations;
using Wasmorch.Gateway.State;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Agent.Replies;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Desired;

/// <summary>One entry of the desired state, ready to deploy: the module's bytes are kept by the state file.</summary>
public sealed record DesiredEntry(string ModuleId, Selector Selector, string Sha256, string Crc32, string? Mode, string? Autostart);

/// <summary>
/// Keeps this gateway's devices at the desired state (docs/fleet-ops.md): which module goes on
/// which devices, by selector. A device that restarts (DEVICE_RESET), whose link comes back, or
/// that answers for the first time is converged again without anyone asking: what it lacks is
/// deployed from the kept bytes (nothing is built) and its autostart functions started. Every
/// step is a typed device operation (<see cref="Operations"/>) that goes through the gateway's own
/// checks, so a deploy here is recorded, versioned and checked like any other.
/// </summary>
public sealed partial class Reconciler(GatewayState state, ILogger logger) : IDeviceObserver, IAsyncDisposable
{
    /// <summary>The device map; set once it exists (it is built with this reconciler among its observers).</summary>
    private DeviceRegistry devices = null!;

    public void Attach(DeviceRegistry registry) => devices = registry;

    private volatile IReadOnlyList<DesiredEntry> _desired = [];
    private readonly ConcurrentDictionary<string, bool> _dirty = new(StringComparer.Ordinal);
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    /// <summary>Entries a device refused, held back with a growing delay rather than tried (and warned about) each second.</summary>
    private readonly EntryRefusals _refusals = new(() => DateTimeOffset.UtcNow);

    /// <summary>Devices whose every failed entry is held back: not converged again before this time unless something happens to them.</summary>
    private readonly ConcurrentDictionary<string, DateTimeOffset> _notBefore = new(StringComparer.Ordinal);

    /// <summary>How often devices that could not be converged are tried again.</summary>
    public static TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>What the reconciler does to devices: status, deploy, start, unload.</summary>
    public IDeviceOperations? Operations { get; set; }

    public IReadOnlyList<DesiredEntry> Desired => _desired;

    /// <summary>Loads the desired state the state file keeps and starts converging.</summary>
    public void Start()
    {
        _desired = [.. state.Desired().Select(e => new DesiredEntry(e.ModuleId, Parse(e.Selector), e.Sha256,
            Crc32Hex.Format(Crc32Hex.Compute(state.VersionBytes(e.Sha256) ?? [])), e.Mode, e.Autostart))];
        MarkAll();
        // Supervised: an unforeseen exception in one pass is logged and the loop started again, not lost with it.
        _loop = Supervision.LoopSupervisor.RunAsync("reconciler", LoopAsync, logger, _stop.Token);
    }

    /// <summary>
    /// The new desired state (already kept by the state file). The caller converges the devices
    /// itself and hands back those it could not (<see cref="Retry"/>); the loop takes them from there.
    /// </summary>
    public void Replace(IReadOnlyList<DesiredEntry> desired)
    {
        _desired = desired;
        // Marks and refusals from before are for the old state; the caller converges every device now.
        _dirty.Clear();
        _refusals.Clear();
        _notBefore.Clear();
    }

    /// <summary>True when <paramref name="entries"/> (modules named by SHA-256) is the desired state already held.</summary>
    public bool Holds(IReadOnlyList<DesiredModule> entries)
    {
        var desired = _desired;
        return entries.Count == desired.Count && entries.Zip(desired).All(p =>
            p.First.ModuleId == p.Second.ModuleId && p.First.Selector == p.Second.Selector.Text && p.First.Sha256 == p.Second.Sha256
            && p.First.Mode == p.Second.Mode && p.First.Autostart == p.Second.Autostart);
    }

    /// <summary>Devices of <paramref name="plan"/> that are not converged: tried again by the loop.</summary>
    public void Retry(IEnumerable<PlanStep> plan)
    {
        foreach (var step in plan.Where(p => p.Outcome == "failed" || p.State == "unreachable"))
        {
            Mark(step.Device);
        }
    }

    /// <summary>One convergence of a device at a time: the loop and an apply never deploy to it side by side.</summary>
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _converging = new(StringComparer.Ordinal);

    private static Selector Parse(string text) =>
        Selector.TryParse(text, out var selector, out var error) ? selector! : throw new InvalidOperationException($"stored selector '{text}': {error}");

    private void MarkAll()
    {
        foreach (var device in devices.Names)
        {
            _dirty[device] = true;
        }
        _wake.Writer.TryWrite(true);
    }

    private void Mark(string device)
    {
        // Something happened to it (a restart, its link back): looked at now; a refused entry keeps its own wait.
        _notBefore.TryRemove(device, out _);
        _dirty[device] = true;
        _wake.Writer.TryWrite(true);
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var now = DateTimeOffset.UtcNow;
                var due = _dirty.Keys.Where(d => !_notBefore.TryGetValue(d, out var notBefore) || notBefore <= now).ToList();
                if (due.Count > 0 && Operations is not null && _desired.Count > 0)
                {
                    await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (device, token) =>
                    {
                        _dirty.TryRemove(device, out _);
                        var plan = await ConvergeAsync(device, token);
                        if (plan.Any(p => p.Outcome == "failed" || p.State == "unreachable"))
                        {
                            HoldBack(device, plan);
                            _dirty[device] = true;
                        }
                    });
                }
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
                wait.CancelAfter(RetryInterval);
                try
                {
                    await _wake.Reader.ReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    // Time to retry what failed.
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// A device whose failures are all refused entries waits for the first of them to be due; one
    /// with any other failure (unreachable, a start that failed) is tried again at the usual pace.
    /// </summary>
    private void HoldBack(string device, List<PlanStep> plan)
    {
        var desired = _desired;
        var held = plan.Where(p => p.Outcome == "failed" || p.State == "unreachable")
            .Select(p => p.State == "unreachable" || EntryOf(desired, device, p.ModuleId) is not { } entry ? null : _refusals.HeldUntil(device, entry))
            .ToList();
        if (held.All(h => h is not null))
        {
            _notBefore[device] = held.Min()!.Value;
        }
    }

    private DesiredEntry? EntryOf(IReadOnlyList<DesiredEntry> desired, string device, string moduleId) =>
        desired.FirstOrDefault(e => e.ModuleId == moduleId && e.Selector.Matches(devices.LabelsOf(device)));

    /// <summary>What <paramref name="device"/> needs to match <paramref name="desired"/> (default: the current desired state), asking it for its STATUS.</summary>
    public async Task<List<PlanStep>> PlanAsync(string device, IReadOnlyList<DesiredEntry>? desired, CancellationToken ct)
    {
        desired ??= _desired;
        if (desired.Count > 0 && devices.Get(device).Capabilities is null)
        {
            // It has not said HELLO yet (the gateway connects on first use): what it is, its labels
            // board and runtime, comes with its first answer, and selectors may need them.
            var hello = await Operations!.StatusAsync(device, ct);
            if (!hello.Ok)
            {
                return [new PlanStep { Device = device, ModuleId = "*", State = "unreachable", Error = hello.Error }];
            }
        }
        var labels = devices.LabelsOf(device);
        var wanted = desired.Where(e => e.Selector.Matches(labels)).ToList();
        var steps = new List<PlanStep>();
        if (wanted.Count == 0)
        {
            return steps;
        }
        var status = await Operations!.StatusAsync(device, ct);
        if (!status.Ok)
        {
            return [.. wanted.Select(e => new PlanStep { Device = device, ModuleId = e.ModuleId, State = "unreachable", Error = status.Error })];
        }
        var held = status.Answer.ModuleCrcs;
        var versions = new Dictionary<string, List<ModuleVersion>>(StringComparer.Ordinal);
        int? VersionOf(string moduleId, Func<ModuleVersion, bool> which)
        {
            if (!versions.TryGetValue(moduleId, out var list))
            {
                versions[moduleId] = list = state.Versions(moduleId, withDevices: false);
            }
            return list.FirstOrDefault(which)?.Version;
        }
        foreach (var entry in wanted)
        {
            // A refusal of this very entry by this device is part of what it needs: diff shows it.
            var step = new PlanStep { Device = device, ModuleId = entry.ModuleId, DesiredVersion = VersionOf(entry.ModuleId, v => v.Sha256 == entry.Sha256), Error = _refusals.Describe(device, entry) };
            if (!held.TryGetValue(entry.ModuleId, out var crc))
            {
                step.State = "missing";
            }
            else
            {
                step.State = string.Equals(crc, entry.Crc32, StringComparison.OrdinalIgnoreCase) ? "same" : "different";
                step.HeldVersion = VersionOf(entry.ModuleId, v => string.Equals(v.Crc32, crc, StringComparison.OrdinalIgnoreCase));
                if (step.State == "same")
                {
                    // It holds the entry after all (deployed by hand, say): nothing refused any more.
                    _refusals.Cleared(device, entry);
                    step.Error = null;
                }
            }
            steps.Add(step);
        }
        foreach (var extra in held.Keys.Where(m => wanted.All(e => e.ModuleId != m)))
        {
            steps.Add(new PlanStep { Device = device, ModuleId = extra, State = "extra" });
        }
        return steps;
    }

    /// <summary>
    /// Plans <paramref name="device"/> and carries the plan out: deploys what is missing or
    /// different, starts autostart functions of what it deployed, and with <paramref name="prune"/>
    /// unloads what the desired state does not name (only an apply asks for that: the gateway never
    /// removes a module by itself).
    /// </summary>
    public async Task<List<PlanStep>> ConvergeAsync(string device, CancellationToken ct, bool prune = false)
    {
        var turn = _converging.GetOrAdd(device, _ => new SemaphoreSlim(1, 1));
        await turn.WaitAsync(ct);
        try
        {
            var steps = await ConvergeNowAsync(device, ct);
            if (prune)
            {
                await PruneAsync(steps, ct);
            }
            return steps;
        }
        finally
        {
            turn.Release();
        }
    }

    private async Task<List<PlanStep>> ConvergeNowAsync(string device, CancellationToken ct)
    {
        var desired = _desired;
        var steps = await PlanAsync(device, desired, ct);
        foreach (var step in steps.Where(s => s.State is "missing" or "different"))
        {
            var entry = desired.First(e => e.ModuleId == step.ModuleId && e.Selector.Matches(devices.LabelsOf(device)));
            if (_refusals.HeldUntil(device, entry) is not null)
            {
                // Refused before and its wait is not over: asking again now would only be refused again.
                step.Outcome = "failed";
                continue;
            }
            var bytes = state.VersionBytes(entry.Sha256);
            if (bytes is null)
            {
                step.Outcome = "failed";
                step.Error = new HostError { Code = HostErrorCodes.Internal, Message = $"the kept bytes of {entry.ModuleId} ({entry.Sha256}) are gone from {state.VersionsDirectory}" };
                continue;
            }
            var deployed = await Operations!.DeployAsync(new ModuleDeploy(device, entry.ModuleId, bytes, entry.Mode, By: "reconciler"), ct);
            if (!deployed.Ok)
            {
                step.Outcome = "failed";
                step.Error = deployed.Error;
                if (!EntryRefusals.IsRefusal(deployed.Error?.Code))
                {
                    LogFailed(logger, device, entry.ModuleId, deployed.Error?.Message ?? "?");
                }
                else if (_refusals.Refused(device, entry, deployed.Error!, RetryInterval))
                {
                    LogRefused(logger, device, entry.ModuleId, deployed.Error!.Code, deployed.Error.Message);
                    step.Error = _refusals.Describe(device, entry);
                }
                else
                {
                    LogRefusedAgain(logger, device, entry.ModuleId, deployed.Error!.Code);
                    step.Error = _refusals.Describe(device, entry);
                }
                continue;
            }
            _refusals.Cleared(device, entry);
            step.Outcome = "deployed";
            step.DesiredVersion = deployed.Answer.Version;
            if (entry.Autostart is { } autostart && FuncCall.TryParse(autostart, out var call))
            {
                var started = await Operations.RunAsync(new JobCall(device, entry.ModuleId, call!.Func, call.Args, Wait: false), ct);
                step.Outcome = started.Ok ? "started" : "failed";
                step.Error = started.Ok ? null : started.Error;
            }
            LogConverged(logger, device, entry.ModuleId, step.Outcome);
        }
        return steps;
    }

    private async Task PruneAsync(List<PlanStep> steps, CancellationToken ct)
    {
        foreach (var extra in steps.Where(s => s.State == "extra"))
        {
            var unloaded = await Operations!.UnloadAsync(extra.Device, extra.ModuleId, ct);
            extra.Outcome = unloaded.Ok ? "unloaded" : "failed";
            extra.Error = unloaded.Ok ? null : unloaded.Error;
            LogConverged(logger, extra.Device, extra.ModuleId, extra.Outcome);
        }
    }

    public void Reset(string device, string reason) => Mark(device);

    public void LinkLost(string device, string reason) => Mark(device);

    public void Connected(string device, string agent) => Mark(device);

    public void Mapped(string device, string endpoint)
    {
    }

    public void JobStarted(string device, long job, string moduleId, string func, string? args)
    {
    }

    public void JobEnded(string device, long job, JobResult result)
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

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Desired state: {Device} {ModuleId} {Outcome}")]
    private static partial void LogConverged(ILogger logger, string device, string moduleId, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Desired state: {Device} {ModuleId} could not be deployed: {Reason}; tried again")]
    private static partial void LogFailed(ILogger logger, string device, string moduleId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Desired state: {Device} refused {ModuleId}: {Code}: {Reason}; tried again less and less often (diff shows it)")]
    private static partial void LogRefused(ILogger logger, string device, string moduleId, string code, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Desired state: {Device} refused {ModuleId} again ({Code})")]
    private static partial void LogRefusedAgain(ILogger logger, string device, string moduleId, string code);
}
