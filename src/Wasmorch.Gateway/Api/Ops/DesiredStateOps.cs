using Wasmorch.Gateway.Build;
using Wasmorch.Gateway.Desired;
using Wasmorch.Gateway.Devices;
using Wasmorch.Gateway.Fleet;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Api.Ops;

/// <summary>
/// <c>apply</c>: the request's <c>desired</c> becomes the gateway's desired state (kept by the
/// state file) and its devices are converged to it now; the reconciler keeps them there after
/// (docs/fleet-ops.md). Everything is checked before anything is touched: each entry, each
/// selector against the device map, and no device getting two different modules under one id.
/// <c>dry_run</c> only plans. In a fleet, the desired state is the fleet's: it is written to the
/// fleet (where every gateway, also one that is away now, adopts it) and the gateways that own
/// selected devices converge them and say how it went.
/// </summary>
public sealed class ApplyOp(DeviceRegistry devices, BuildService build, Reconciler? reconciler, IFleet? fleet) : IOpHandler
{
    public string Op => HostOps.Apply;

    public async Task<HostResponse> HandleAsync(OpContext op)
    {
        if (reconciler is null || devices.State is null)
        {
            throw new GatewayException(HostErrorCodes.Unsupported, "this gateway runs without a state file, so it keeps no desired state");
        }
        // A forwarded apply is this gateway's part of a fleet's: its own devices, selectors already checked fleet-wide.
        var fleetWide = fleet is not null && !op.Forwarded;
        var described = fleetWide ? await FleetDevices.DescribeAsync(fleet!, devices.Describe(), op.Ct) : devices.Describe();
        var desired = await PrepareAsync(op, described, checkSelectors: !op.Forwarded);
        if (fleetWide && !op.Request.DryRun)
        {
            // Held here before the fleet has it, so that this gateway's own watch of it has nothing to do.
            var before = reconciler.Desired;
            reconciler.Replace(desired);
            try
            {
                // The fleet's record first: a gateway that misses the request below adopts it from there.
                await fleet!.PutDesiredAsync(HostJson.Serialize(FleetDocument(desired, dryRun: false, prune: false)), op.Ct);
            }
            catch (GatewayException)
            {
                reconciler.Replace(before);
                throw;
            }
        }
        var remote = fleetWide ? FleetPlans.ForwardAsync(fleet!, described, FleetDocument(desired, op.Request.DryRun, op.Request.Prune), desired, op.Ct) : Task.FromResult(new List<PlanStep>());
        List<PlanStep> local;
        if (op.Request.DryRun)
        {
            local = await PlanAllAsync(devices, reconciler, desired, converge: false, op.Ct);
        }
        else
        {
            await devices.State.SaveDesiredAsync([.. desired.Select(e => (e.ModuleId, e.Selector.Text, e.Sha256, e.Mode, e.Autostart))]);
            reconciler.Replace(desired);
            local = await PlanAllAsync(devices, reconciler, desired, converge: true, op.Ct, op.Request.Prune);
            reconciler.Retry(local);
        }
        List<PlanStep> plan = [.. local, .. await remote];
        plan.Sort((a, b) => string.CompareOrdinal(a.Device, b.Device));
        return op.Request.DryRun ? new HostResponse { Ok = true, Plan = plan } : Outcome(plan);
    }

    /// <summary>The desired state as the fleet keeps it and the gateways are handed it: modules by SHA-256 (their bytes are in the fleet's store).</summary>
    private static HostRequest FleetDocument(IReadOnlyList<DesiredEntry> desired, bool dryRun, bool prune) => new()
    {
        Op = HostOps.Apply,
        DryRun = dryRun,
        Prune = prune,
        Desired = [.. desired.Select(e => new DesiredModule { ModuleId = e.ModuleId, Selector = e.Selector.Text, Sha256 = e.Sha256, Mode = e.Mode, Autostart = e.Autostart })],
    };

    /// <summary>Every entry checked and built (or decoded), its bytes kept; a precise error for the first that is wrong.</summary>
    private async Task<List<DesiredEntry>> PrepareAsync(OpContext op, List<DeviceInfo> described, bool checkSelectors)
    {
        var wanted = op.Request.Desired ?? throw new GatewayException(HostErrorCodes.BadRequest, "apply needs desired (a list of modules)");
        var labels = described.ToDictionary(d => d.Name, d => d.Labels, StringComparer.Ordinal);
        var entries = new List<DesiredEntry>();
        for (var i = 0; i < wanted.Count; i++)
        {
            var w = wanted[i];
            var where = $"desired[{i}] ({(string.IsNullOrEmpty(w.ModuleId) ? "no module_id" : w.ModuleId)})";
            if (!ModuleId.IsValid(w.ModuleId))
            {
                throw new GatewayException(HostErrorCodes.BadRequest, $"{where}: module_id must match [A-Za-z0-9_.-]{{1,32}}");
            }
            if (!Selector.TryParse(w.Selector, out var selector, out var selectorError))
            {
                throw new GatewayException(HostErrorCodes.BadRequest, $"{where}: {selectorError}");
            }
            if (checkSelectors && selector!.ProblemAmong(labels.Values) is { } selectorProblem)
            {
                throw new GatewayException(HostErrorCodes.BadRequest, $"{where}: {selectorProblem}");
            }
            if (w.Mode is not (null or "wasm" or "aot"))
            {
                throw new GatewayException(HostErrorCodes.BadRequest, $"{where}: unknown mode '{w.Mode}' (wasm or aot)");
            }
            if (w.Autostart is { } autostart && !FuncCall.TryParse(autostart, out _))
            {
                throw new GatewayException(HostErrorCodes.BadRequest, $"{where}: autostart '{autostart}' is not func[:args] (a C identifier, then arguments as start takes them)");
            }
            var module = await build.ModuleOfAsync(where, w.Source, w.SourceName ?? w.ModuleId + ".c", w.Module, BuildOptions.Seed, op.Ct, w.Sha256);
            var sha = BuildService.Sha256(module);
            await build.KeepModuleAsync(sha, module, op.Ct);
            entries.Add(new DesiredEntry(w.ModuleId, selector!, sha, Crc32Hex.Format(Crc32Hex.Compute(module)), w.Mode, w.Autostart));
        }
        foreach (var (device, deviceLabels) in labels)
        {
            var clash = entries.Where(e => e.Selector.Matches(deviceLabels)).GroupBy(e => e.ModuleId).FirstOrDefault(g => g.Select(e => e.Sha256).Distinct().Count() > 1);
            if (clash is not null)
            {
                throw new GatewayException(HostErrorCodes.BadRequest,
                    $"device '{device}' would get two different '{clash.Key}' (selectors {string.Join(" and ", clash.Select(e => $"'{e.Selector}'"))}): the desired state contradicts itself");
            }
        }
        return entries;
    }

    /// <summary>The plan (or its outcome, with <paramref name="converge"/>) of every device some entry selects.</summary>
    internal static async Task<List<PlanStep>> PlanAllAsync(DeviceRegistry devices, Reconciler reconciler, IReadOnlyList<DesiredEntry> desired, bool converge, CancellationToken ct, bool prune = false)
    {
        // A device not connected may not have said what it is yet (its board and runtime labels): it is asked.
        var selected = devices.Describe().Where(d => !d.Connected || desired.Any(e => e.Selector.Matches(d.Labels))).Select(d => d.Name).ToList();
        var plans = new List<PlanStep>[selected.Count];
        await Parallel.ForAsync(0, selected.Count, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (i, token) =>
            plans[i] = converge ? await reconciler.ConvergeAsync(selected[i], token, prune) : await reconciler.PlanAsync(selected[i], desired, token));
        return [.. plans.SelectMany(p => p)];
    }

    /// <summary>Not ok while a device is not converged (it is tried again); the plan says which.</summary>
    internal static HostResponse Outcome(List<PlanStep> plan)
    {
        var stuck = plan.Where(p => p.Outcome == "failed" || p.State == "unreachable").ToList();
        return stuck.Count == 0
            ? new HostResponse { Ok = true, Plan = plan }
            : new HostResponse
            {
                Ok = false,
                Plan = plan,
                Error = new HostError
                {
                    Code = stuck[0].Error?.Code ?? HostErrorCodes.DeviceUnreachable,
                    Message = $"{stuck.Select(p => p.Device).Distinct().Count()} device(s) not converged yet ({string.Join(", ", stuck.Select(p => p.Device).Distinct().Take(5))}); the gateway keeps trying",
                },
            };
    }
}

/// <summary><c>diff</c>: how the devices differ from the desired state, from their own STATUS (in a fleet, every gateway's devices).</summary>
public sealed class DiffOp(DeviceRegistry devices, Reconciler? reconciler, IFleet? fleet) : IOpHandler
{
    public string Op => HostOps.Diff;

    public async Task<HostResponse> HandleAsync(OpContext op)
    {
        if (reconciler is null)
        {
            throw new GatewayException(HostErrorCodes.Unsupported, "this gateway runs without a state file, so it keeps no desired state");
        }
        var remote = fleet is not null && !op.Forwarded
            ? FleetPlans.ForwardAsync(fleet, await FleetDevices.DescribeAsync(fleet, devices.Describe(), op.Ct), new HostRequest { Op = HostOps.Diff }, reconciler.Desired, op.Ct)
            : Task.FromResult(new List<PlanStep>());
        List<PlanStep> plan = [.. await ApplyOp.PlanAllAsync(devices, reconciler, reconciler.Desired, converge: false, op.Ct), .. await remote];
        plan.Sort((a, b) => string.CompareOrdinal(a.Device, b.Device));
        return new HostResponse
        {
            Ok = true, Plan = plan,
            Message = reconciler.Desired.Count == 0 ? "no desired state: `wasmorch apply -f FILE` declares one (docs/fleet-ops.md)" : null,
        };
    }
}
