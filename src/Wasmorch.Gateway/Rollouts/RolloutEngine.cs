using System.Globalization;
using Microsoft.Extensions.Logging;
using Wasmorch.Gateway.Build;
using Wasmorch.Gateway.Devices;
using Wasmorch.Gateway.Operations;
using Wasmorch.Gateway.State;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Agent.Replies;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Rollouts;

/// <summary>
/// Staged rollouts (docs/fleet-ops.md), hawkBit style: the selected devices in waves (1, 10%, 50%,
/// 100%), each device deployed and then made to pass a health check (a function that must return
/// 0) and a soak (no job of it may end badly meanwhile); more failures than allowed stop the
/// rollout and put every touched device back to the version it had. Every step is written to the
/// state file as it happens, so a gateway that restarts carries the rollout on where it was. All
/// device work is typed device operations (<see cref="Operations"/>), wherever the device is, so in a
/// fleet a rollout started on one gateway reaches the devices of every gateway: that gateway is the
/// fleet's rollout coordinator, one rollout at a time fleet-wide (<see cref="TakeFleetAsync"/>).
/// </summary>
public sealed partial class RolloutEngine(DeviceRegistry devices, GatewayState state, BuildService build, Signing.ModuleSignatures signatures, Config.GatewayConfig config,
    ILogger logger, Fleet.IFleet? fleet = null, Desired.Reconciler? reconciler = null) : IAsyncDisposable
{
    private readonly Lock _gate = new();

    /// <summary>
    /// One start, pause, resume or abort at a time: a start checks, builds (seconds) and only then
    /// creates its rollout, so two starts side by side both passed the check and both ran.
    /// </summary>
    private readonly SemaphoreSlim _control = new(1, 1);

    /// <summary>What holds <see cref="_control"/>, for the start it refuses.</summary>
    private string? _controlling;

    /// <summary>The gateway's lifetime: a rollout's own work (its run, an abort's rollback) stops with the gateway, never with a request.</summary>
    private readonly CancellationTokenSource _lifetime = new();
    private CancellationTokenSource? _run;
    private Task _running = Task.CompletedTask;

    /// <summary>How long a device's health check may run.</summary>
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(10);

    /// <summary>What a rollout does to devices (status, deploy, check, jobs, rollback), here or at their gateway.</summary>
    public IDeviceOperations? Operations { get; set; }

    /// <summary>Told after each step a rollout records (a wave begins, a device's outcome, the end): the dashboard follows.</summary>
    public Action? Changed { get; set; }

    /// <summary>Carries on a rollout the state file says was running when the gateway stopped.</summary>
    public void Start()
    {
        // An abort the gateway stopped in the middle is finished, never carried on as a rollout.
        if (state.LatestRollout() is { State: "running" or "aborting" } stored)
        {
            LogResumed(logger, stored.Id, stored.State, stored.Wave);
            Launch(stored.Id);
        }
    }

    public async Task<HostResponse> HandleAsync(HostRequest request, CancellationToken ct)
    {
        if (request.Action == "status")
        {
            Latest("status");
        }
        else
        {
            await TakeControlAsync(request, ct);
            try
            {
                await ControlAsync(request, ct);
            }
            finally
            {
                _controlling = null;
                _control.Release();
            }
        }
        // Versions are written behind the deploys' answers: read them once written.
        await state.FlushAsync();
        return new HostResponse { Ok = true, Rollout = Describe(state.LatestRollout()!) };
    }

    /// <summary>A start finds the engine busy and is refused at once; the others wait their turn (a pause, an abort take moments).</summary>
    private async Task TakeControlAsync(HostRequest request, CancellationToken ct)
    {
        if (request.Action != "start")
        {
            await _control.WaitAsync(ct);
        }
        else if (!await _control.WaitAsync(0, ct))
        {
            throw new GatewayException(HostErrorCodes.RolloutRunning,
                $"{_controlling ?? "another rollout command is under way"}: a rollout of '{request.ModuleId}' on '{request.Selector}' cannot start beside it (one rollout at a time)");
        }
        _controlling = request.Action == "start" ? $"a rollout of '{request.ModuleId}' on '{request.Selector}' is being started" : $"a rollout {request.Action} is under way";
    }

    private async Task ControlAsync(HostRequest request, CancellationToken ct)
    {
        switch (request.Action)
        {
            case "start":
                await StartRolloutAsync(request, ct);
                break;
            case "pause":
                await StopRunAsync();
                await SetStateAsync(Latest("pause"), "running", "paused");
                break;
            case "resume":
                var paused = Latest("resume");
                await SetStateAsync(paused, "paused", "running");
                Launch(paused.Id);
                break;
            case "abort":
                // Not the request's token: an abort runs to its end whatever the client does (it may hang up).
                await AbortAsync(Latest("abort"));
                break;
            default:
                throw new GatewayException(HostErrorCodes.BadRequest, $"rollout action '{request.Action}' is not one of start, status, pause, resume, abort");
        }
    }

    /// <summary>
    /// Stops the run and rolls back in the background run (the gateway's lifetime, not the request's).
    /// "aborting" is written before the first device is touched: a gateway stopped in the middle
    /// finishes the abort when it starts again instead of carrying the rollout on.
    /// </summary>
    private async Task AbortAsync(StoredRollout aborting)
    {
        if (aborting.State is not ("running" or "paused" or "aborting"))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"rollout {aborting.Id} is {aborting.State}: there is nothing to abort");
        }
        await StopRunAsync();
        // The run may have ended meanwhile (done, or rolled back by its own gates): then there is nothing left to abort.
        var current = state.LatestRollout()!;
        if (current.State is not ("running" or "paused" or "aborting"))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"rollout {current.Id} is {current.State}: there is nothing to abort");
        }
        if (current.State != "aborting")
        {
            await SetRolloutAsync(current.Id, "aborting", current.Wave, "aborted by request");
        }
        Launch(current.Id);
        await WaitForRunAsync();
    }

    private StoredRollout Latest(string action) => state.LatestRollout()
        ?? throw new GatewayException(HostErrorCodes.BadRequest, $"there is no rollout to {action}");

    private async Task SetStateAsync(StoredRollout rollout, string from, string to)
    {
        if (rollout.State != from)
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"rollout {rollout.Id} is {rollout.State}, not {from}");
        }
        await SetRolloutAsync(rollout.Id, to, rollout.Wave);
    }

    private async Task SetRolloutAsync(long id, string to, int wave, string? reason = null)
    {
        await state.SetRolloutAsync(id, to, wave, reason);
        Changed?.Invoke();
    }

    private async Task SetRolloutDeviceAsync(long id, string device, string outcome, string? message, string? previousSha256 = null, RolloutFailure? failure = null)
    {
        await state.SetRolloutDeviceAsync(id, device, outcome, message, previousSha256, failure);
        Changed?.Invoke();
    }

    /// <summary>A device failed: its outcome, a message for people, and the cause in typed fields.</summary>
    private Task FailAsync(StoredRollout rollout, string device, string message, RolloutFailure failure) =>
        SetRolloutDeviceAsync(rollout.Id, device, "failed", message, failure: failure);

    /// <summary>
    /// Why a check failed, or null when it passed (the job ended OK returning exactly 0): a trap (with
    /// its text), a timeout, another error, or the value it returned.
    /// </summary>
    private static (string Why, RolloutFailure Failure)? CheckFailure(DeviceResult<JobRun> checkedOut) => checkedOut switch
    {
        { Error: { Code: HostErrorCodes.Timeout } timeout } => ($"{timeout.Code}: {timeout.Message}", new RolloutFailure { Kind = "check-timeout", Code = timeout.Code, Detail = timeout.Message }),
        { Error: { } error } => ($"{error.Code}: {error.Message}", new RolloutFailure { Kind = "check-error", Code = error.Code, Detail = error.Message }),
        { Value: { Result: null } run } => ("did not report its result", new RolloutFailure { Kind = "check-error", Detail = "no result", Job = run.Job }),
        { Value: { Result.State: JobState.Ok } run } when run.Result!.Value?.Is(0) == true => null,
        { Value: { Result.State: JobState.Ok } run } => ($"returned {run.Result!.Value?.Text ?? "nothing"}", new RolloutFailure { Kind = "check-value", Value = run.Result.Value?.Text, Job = run.Job }),
        { Value: { Result.State: JobState.Trap } run } => ($"{JobStatus.Trap}: {run.Result!.Message}", new RolloutFailure { Kind = "check-trap", Code = JobStatus.Trap, Detail = run.Result.Message, Job = run.Job }),
        { Value: { } run } => ($"{run.Result!.StatusText}: {run.Result.Message}", new RolloutFailure { Kind = "check-error", Code = run.Result.StatusText, Detail = run.Result.Message, Job = run.Job }),
        _ => ("no answer", new RolloutFailure { Kind = "check-error" }),
    };

    public RolloutInfo Describe(StoredRollout rollout)
    {
        var list = state.RolloutDevices(rollout.Id);
        return new RolloutInfo
        {
            Id = rollout.Id,
            ModuleId = rollout.ModuleId,
            Selector = rollout.Selector,
            Version = state.Versions(rollout.ModuleId).FirstOrDefault(v => v.Sha256 == rollout.Sha256)?.Version,
            State = rollout.State,
            Wave = rollout.Wave,
            Waves = rollout.Waves,
            // A device failed when its failure was recorded: it keeps it through a rollback.
            Failures = list.Count(d => d.Failure is not null),
            MaxFailures = rollout.MaxFailures,
            Reason = state.RolloutReason(rollout.Id),
            StartedAt = rollout.CreatedAt,
            EndedAt = rollout.EndedAt,
            Devices = list,
        };
    }

    private async Task StartRolloutAsync(HostRequest request, CancellationToken ct)
    {
        if (state.LatestRollout() is { State: "running" or "paused" or "aborting" } busy)
        {
            throw new GatewayException(HostErrorCodes.RolloutRunning, $"rollout {busy.Id} of '{busy.ModuleId}' on '{busy.Selector}' is {busy.State}: abort it or let it end first");
        }
        var moduleId = Api.Ops.Replies.RequireModuleId(request);
        if (!Selector.TryParse(request.Selector, out var selector, out var selectorError))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, selectorError!);
        }
        var described = fleet is null ? devices.Describe() : await Fleet.FleetDevices.DescribeAsync(fleet, devices.Describe(), ct);
        if (selector!.ProblemAmong([.. described.Select(d => d.Labels)]) is { } selectorProblem)
        {
            throw new GatewayException(HostErrorCodes.BadRequest, selectorProblem);
        }
        var selected = described.Where(d => selector.Matches(d.Labels)).Select(d => d.Name).Order(StringComparer.Ordinal).ToList();
        if (reconciler?.Desired.FirstOrDefault(e => e.ModuleId == moduleId && described.Any(d => selector.Matches(d.Labels) && e.Selector.Matches(d.Labels))) is { } managed)
        {
            // The reconciler would put the desired version back on any of them that restarts: two truths for one board.
            throw new GatewayException(HostErrorCodes.BadRequest,
                $"'{moduleId}' is in the desired state for devices this rollout selects (selector '{managed.Selector}'): the reconciler would undo the rollout; change the desired state with apply");
        }
        var waves = Waves(request.Waves ?? RolloutWaves.Default, selected);
        var check = request.Check ?? throw new GatewayException(HostErrorCodes.BadRequest, "a rollout needs check: the function (func[:args]) each device must pass, returning 0");
        if (!FuncCall.TryParse(check, out _))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"check '{check}' is not func[:args]");
        }
        if (request.MaxFailures is < 0 || request.SoakMs is < 0 or > 600_000)
        {
            throw new GatewayException(HostErrorCodes.BadRequest, "max_failures must be 0 or more, soak_ms 0 to 600000");
        }
        var module = await build.ModuleOfAsync("rollout", request.Source, request.SourceName ?? moduleId + ".c", request.Module, BuildOptions.From(request), ct, files: request.Files);
        var signed = CheckSignature(request, module, selected);
        if (fleet is not null)
        {
            // Last, once everything else is checked: a refused start leaves the fleet's coordinator as it was.
            await TakeFleetAsync(ct);
        }
        var sha = BuildService.Sha256(module);
        // The rollout's module is a version of its id from now on: status and history name it.
        await state.RecordVersionAsync(moduleId, module, sha, Crc32Hex.Format(Crc32Hex.Compute(module)), request.Source is null ? "file:as-is" : "built:wasm",
            request.Source is null ? null : BuildService.Sha256(System.Text.Encoding.UTF8.GetBytes(request.Source)), signed, request.By);
        var id = await state.CreateRolloutAsync(moduleId, selector!.Text, sha, request.Mode, check, request.MaxFailures ?? 0, request.SoakMs ?? 0, waves,
            signed ? request.Signature : null);
        Launch(id);
        LogStarted(logger, id, moduleId, selected.Count, waves.Count);
    }

    /// <summary>
    /// A rollout's signature covers the module once for every device of its selector (the rollout's
    /// statement); each deploy carries it, and each device's gateway checks it again. A C source
    /// rollout cannot be signed: the bytes the devices get are built here, not what the signer saw.
    /// Devices of this gateway that take only signed modules are checked now, before anything is touched.
    /// </summary>
    private bool CheckSignature(HostRequest request, byte[] module, List<string> selected)
    {
        if (request.Signature is not null && request.Source is not null)
        {
            throw new GatewayException(HostErrorCodes.BadRequest,
                "a signed rollout takes a module file (--wasm): the signature must cover the bytes every device gets, and a C source is built here");
        }
        var strict = selected.FirstOrDefault(config.RequireSigned.Contains);
        return signatures.Check(DeployStatement.For(request, module), request.Signature, required: strict is not null, strict ?? "rollout");
    }

    /// <summary>
    /// Makes this gateway the fleet's rollout coordinator, unless the one that is has a rollout
    /// running or paused, or cannot say (it is away: its rollout may be running, and two rollouts
    /// must never touch one device at once).
    /// </summary>
    private async Task TakeFleetAsync(CancellationToken ct)
    {
        var coordinator = await fleet!.RolloutCoordinatorAsync(ct);
        if (coordinator is not null && coordinator != fleet.GatewayName)
        {
            HostResponse latest;
            try
            {
                latest = await fleet.ForwardAsync(coordinator, new HostRequest { Op = HostOps.Rollout, Action = "status", TimeoutMs = 10_000 }, null, ct);
            }
            catch (GatewayException ex)
            {
                throw new GatewayException(HostErrorCodes.DeviceUnreachable,
                    $"gateway '{coordinator}' ran the fleet's latest rollout and cannot say whether it still runs ({ex.Message}); start this one when it is back");
            }
            if (latest.Rollout is { State: "running" or "paused" or "aborting" } busy)
            {
                throw new GatewayException(HostErrorCodes.RolloutRunning,
                    $"rollout {busy.Id} of '{busy.ModuleId}' is {busy.State} on gateway '{coordinator}': abort it or let it end first (one rollout at a time in a fleet)");
            }
        }
        if (coordinator != fleet.GatewayName && !await fleet.TakeRolloutsAsync(coordinator, ct))
        {
            throw new GatewayException(HostErrorCodes.RolloutRunning, "another gateway of the fleet started a rollout at the same moment: see rollout status");
        }
    }

    /// <summary>Devices per wave: each size a count or a percentage of all, growing, the last reaching every device.</summary>
    private static List<IReadOnlyList<string>> Waves(string spec, List<string> selected)
    {
        if (!RolloutWaves.TryParse(spec, out var sizes, out var error))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, error!);
        }
        var waves = new List<IReadOnlyList<string>>();
        var done = 0;
        WaveSize? widest = null;
        foreach (var size in sizes)
        {
            // Counts against percentages: only the number of devices selected tells whether one shrinks.
            if (widest is { } before && size.Reach(selected.Count) < before.Reach(selected.Count))
            {
                throw new GatewayException(HostErrorCodes.BadRequest,
                    RolloutWaves.Shrinks(size, before, spec, $" ({size.Reach(selected.Count)} of the {selected.Count} device(s))"));
            }
            widest = size;
            var upTo = Math.Min(selected.Count, size.Reach(selected.Count));
            if (upTo <= done)
            {
                continue;
            }
            waves.Add(selected[done..upTo]);
            done = upTo;
        }
        return done == selected.Count
            ? waves
            : throw new GatewayException(HostErrorCodes.BadRequest, $"waves '{spec}' reach {done} of the {selected.Count} device(s): the last must reach every one (100%)");
    }

    /// <summary>
    /// Runs rollout <paramref name="id"/> from where the state file says it is, supervised (an
    /// unforeseen exception is logged and the run started again). Runs never overlap: a new one
    /// waits for the one before (it may be writing its last step), whose token is disposed only then.
    /// </summary>
    private void Launch(long id)
    {
        lock (_gate)
        {
            var before = (Run: _run, Task: _running);
            _run = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token);
            var token = _run.Token;
            _running = Task.Run(async () =>
            {
                await before.Task;
                before.Run?.Dispose();
                await Supervision.LoopSupervisor.RunAsync($"rollout {id}", t => ContinueAsync(id, t), logger, token);
            }, CancellationToken.None);
        }
    }

    /// <summary>One pass of a rollout's run: carry it on, or finish its abort, as the state file says.</summary>
    private async Task ContinueAsync(long id, CancellationToken ct)
    {
        switch (state.LatestRollout())
        {
            case { State: "running" } rollout when rollout.Id == id:
                await RunAsync(rollout, ct);
                break;
            case { State: "aborting" } rollout when rollout.Id == id:
                await RollBackAsync(rollout, "aborted", "aborted by request", ct);
                break;
        }
    }

    private async Task StopRunAsync()
    {
        lock (_gate)
        {
            _run?.Cancel();
        }
        await WaitForRunAsync();
    }

    private Task WaitForRunAsync()
    {
        lock (_gate)
        {
            return _running;
        }
    }

    private async Task RunAsync(StoredRollout rollout, CancellationToken ct)
    {
        try
        {
            for (var wave = rollout.Wave; wave <= rollout.Waves; wave++)
            {
                await SetRolloutAsync(rollout.Id, "running", wave);
                var due = state.RolloutDevices(rollout.Id).Where(d => d.Wave == wave && d.Outcome is "pending" or "deploying").ToList();
                await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (device, token) =>
                    await RollOneAsync(rollout, device.Device, token));
                var failures = state.RolloutDevices(rollout.Id).Count(d => d.Outcome == "failed");
                if (failures > rollout.MaxFailures)
                {
                    await RollBackAsync(rollout with { Wave = wave }, "rolled-back",
                        $"{failures} device(s) failed in wave {wave} (at most {rollout.MaxFailures} allowed)", CancellationToken.None);
                    return;
                }
            }
            await SetRolloutAsync(rollout.Id, "done", rollout.Waves);
            LogDone(logger, rollout.Id);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Paused or aborted: the state file says where it stopped.
        }
        catch (Exception ex) when (ex is GatewayException or IOException)
        {
            LogFailed(logger, ex, rollout.Id);
            await SetRolloutAsync(rollout.Id, "paused", rollout.Wave, $"stopped by an error: {ex.Message}");
        }
    }

    /// <summary>One device: note what it had, deploy, check, soak. Its outcome is written whatever happens.</summary>
    private async Task RollOneAsync(StoredRollout rollout, string device, CancellationToken ct)
    {
        var status = await Operations!.StatusAsync(device, ct);
        if (status.Error is { } unreachable)
        {
            await FailAsync(rollout, device, $"failed: {unreachable.Code}: {unreachable.Message}",
                new RolloutFailure { Kind = "status", Code = unreachable.Code, Detail = unreachable.Message });
            return;
        }
        var heldCrc = status.Answer.ModuleCrcs.GetValueOrDefault(rollout.ModuleId);
        string? previous = null;
        if (heldCrc is not null)
        {
            previous = await PreviousVersionAsync(rollout.ModuleId, device, heldCrc, ct);
            if (previous is null)
            {
                // Without a copy of what it holds, a rollback could not give the device its module back.
                await FailAsync(rollout, device, $"failed: it holds a '{rollout.ModuleId}' (crc32 {heldCrc}) this gateway has no copy of",
                    new RolloutFailure { Kind = "no-copy", Detail = $"crc32 {heldCrc}" });
                return;
            }
        }
        await SetRolloutDeviceAsync(rollout.Id, device, "deploying", null, previous);
        var since = GatewayState.Now();
        var bytes = state.VersionBytes(rollout.Sha256) ?? throw new IOException($"the kept bytes of rollout {rollout.Id} are gone");
        var deployed = await Operations.DeployAsync(new ModuleDeploy(device, rollout.ModuleId, bytes, rollout.Mode, $"rollout {rollout.Id}", rollout.Signature, rollout.Selector), ct);
        if (deployed.Error is { } refused)
        {
            await FailAsync(rollout, device, $"failed: deploy: {refused.Code}: {refused.Message}",
                new RolloutFailure { Kind = "deploy", Code = refused.Code, Detail = refused.Message });
            return;
        }
        if (!FuncCall.TryParse(rollout.Check, out var check))
        {
            // Checked when the rollout started; only a state file changed by hand gets here.
            await FailAsync(rollout, device, $"failed: the stored check '{rollout.Check}' is not func[:args]",
                new RolloutFailure { Kind = "check-error", Detail = $"the stored check '{rollout.Check}' is not func[:args]" });
            return;
        }
        var checkedOut = await Operations.RunAsync(new JobCall(device, rollout.ModuleId, check!.Func, check.Args, Wait: true, CheckTimeout), ct);
        if (CheckFailure(checkedOut) is var (why, failure))
        {
            await FailAsync(rollout, device, $"failed: check {rollout.Check} {why}", failure);
            return;
        }
        if (rollout.SoakMs > 0)
        {
            await Task.Delay(rollout.SoakMs, ct);
            // The device's gateway keeps its jobs (in a fleet, another gateway).
            var jobs = await Operations.JobsAsync(device, 50, ct);
            var bad = (jobs.Value ?? []).FirstOrDefault(j => string.CompareOrdinal(j.StartedAt, since) >= 0 && JobStates.IsFailure(JobStates.Parse(j.Status)));
            if (bad is not null)
            {
                await FailAsync(rollout, device, $"failed: during the soak, job {bad.Job} ({bad.Func}) ended {bad.Status}",
                    new RolloutFailure { Kind = "soak", Code = bad.Status, Detail = bad.Message, Job = bad.Job });
                return;
            }
        }
        await SetRolloutDeviceAsync(rollout.Id, device, "ok", null);
    }

    /// <summary>
    /// The SHA-256 of the version of <paramref name="moduleId"/> with CRC <paramref name="heldCrc"/>
    /// that <paramref name="device"/> holds, its bytes kept here for a rollback; null when no gateway
    /// has a copy. This gateway's own record first, else that of the device's gateway, whose bytes
    /// the fleet's store has.
    /// </summary>
    private async Task<string?> PreviousVersionAsync(string moduleId, string device, string heldCrc, CancellationToken ct)
    {
        bool Held(ModuleVersion v) => string.Equals(v.Crc32, heldCrc, StringComparison.OrdinalIgnoreCase);
        if (state.Versions(moduleId, withDevices: false).FirstOrDefault(Held) is { } own)
        {
            return own.Sha256;
        }
        if (fleet is null)
        {
            return null;
        }
        var history = await Operations!.HistoryAsync(device, moduleId, ct);
        return history.Value?.FirstOrDefault(Held) is { } theirs && await build.KeptModuleAsync(theirs.Sha256, ct) is not null ? theirs.Sha256 : null;
    }

    /// <summary>Every device the rollout touched gets the version it had back (or loses the module, if it had none).</summary>
    private async Task RollBackAsync(StoredRollout rollout, string endState, string reason, CancellationToken ct)
    {
        LogRollingBack(logger, rollout.Id, reason);
        foreach (var device in state.RolloutDevices(rollout.Id).Where(d => d.Outcome is "ok" or "failed" or "deploying"))
        {
            var failed = device.Outcome == "failed" ? "failed, then " : "";
            var back = device.PreviousSha256 is { } previous
                ? await PutBackAsync(rollout, device.Device, previous, ct)
                : (await Operations!.UnloadAsync(device.Device, rollout.ModuleId, ct)).Error;
            await SetRolloutDeviceAsync(rollout.Id, device.Device, back is null ? "rolled-back" : "rollback-failed",
                back is null ? $"{failed}put back {(device.PreviousSha256 is null ? "(module removed: it had none)" : "its previous version")}" : $"{failed}rollback: {back.Code}: {back.Message}");
        }
        await SetRolloutAsync(rollout.Id, endState, rollout.Wave, reason);
    }

    /// <summary>
    /// The version <paramref name="sha256"/> back on <paramref name="device"/>: by its own gateway's
    /// record (a rollback, trusted as far as that version was when first deployed, so a device that
    /// takes only signed modules takes it), else from the bytes kept here.
    /// </summary>
    /// <returns>Null once the version is back, else why it is not.</returns>
    private async Task<HostError?> PutBackAsync(StoredRollout rollout, string device, string sha256, CancellationToken ct)
    {
        var by = $"rollout {rollout.Id} rollback";
        var back = await Operations!.RollbackAsync(device, rollout.ModuleId, sha256, by, ct);
        if (back.Ok || back.Error!.Code != AgentErrorCodes.NoModule || state.VersionBytes(sha256) is not { } bytes)
        {
            return back.Error;
        }
        return (await Operations.DeployAsync(new ModuleDeploy(device, rollout.ModuleId, bytes, Mode: null, by), ct)).Error;
    }

    public async ValueTask DisposeAsync()
    {
        await _lifetime.CancelAsync();
        await StopRunAsync();
        _run?.Dispose();
        _lifetime.Dispose();
        _control.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rollout {Id} of {ModuleId}: {Devices} device(s) in {Waves} wave(s)")]
    private static partial void LogStarted(ILogger logger, long id, string moduleId, int devices, int waves);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rollout {Id} ({State}) carried on after a restart, in wave {Wave}")]
    private static partial void LogResumed(ILogger logger, long id, string state, int wave);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rollout {Id} done")]
    private static partial void LogDone(ILogger logger, long id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rollout {Id}: rolling back ({Reason})")]
    private static partial void LogRollingBack(ILogger logger, long id, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Rollout {Id} stopped by an error; paused")]
    private static partial void LogFailed(ILogger logger, Exception exception, long id);
}
