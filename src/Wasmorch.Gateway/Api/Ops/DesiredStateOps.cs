using Wasmorch.Gateway.Build;
using Wasmorch.Gateway.Desired;
using Wasmorch.Gateway.Devices;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Api.Ops;

/// <summary>
/// <c>apply</c>: the request's <c>desired</c> becomes the gateway's desired state (kept by the
/// state file) and its devices are converged to it now; the reconciler keeps them there after
/// (docs/fleet-ops.md). Everything is checked before anything is touched: each entry, each
/// selector against the device map, and no device getting two different modules under one id.
/// <c>dry_run</c> only plans.
/// </summary>
public sealed class ApplyOp(DeviceRegistry devices, BuildService build, Reconciler? reconciler) : IOpHandler
{
    public string Op => HostOps.Apply;

    public async Task<HostResponse> HandleAsync(OpContext op)
    {
        var desired = await PrepareAsync(op);
        var plan = await PlanAllAsync(devices, reconciler!, desired, converge: false, op.Ct);
        if (op.Request.DryRun)
        {
            return new HostResponse { Ok = true, Plan = plan };
        }
        await devices.State!.SaveDesiredAsync([.. desired.Select(e => (e.ModuleId, e.Selector.Text, e.Sha256, e.Mode, e.Autostart))]);
        reconciler!.Replace(desired);
        var outcome = await PlanAllAsync(devices, reconciler, desired, converge: true, op.Ct);
        reconciler.Retry(outcome);
        return Outcome(outcome);
    }

    /// <summary>Every entry checked and built (or decoded), its bytes kept; a precise error for the first that is wrong.</summary>
    private async Task<List<DesiredEntry>> PrepareAsync(OpContext op)
    {
        if (reconciler is null || devices.State is not { } state)
        {
            throw new GatewayException(HostErrorCodes.Unsupported, "this gateway runs without a state file, so it keeps no desired state");
        }
        var wanted = op.Request.Desired ?? throw new GatewayException(HostErrorCodes.BadRequest, "apply needs desired (a list of modules)");
        var labels = devices.Describe().ToDictionary(d => d.Name, d => d.Labels, StringComparer.Ordinal);
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
            if (selector!.ProblemAmong(labels.Values) is { } selectorProblem)
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
            var module = await build.ModuleOfAsync(where, w.Source, w.SourceName ?? w.ModuleId + ".c", w.Module, BuildOptions.Seed, op.Ct);
            var sha = BuildService.Sha256(module);
            await state.KeepBytesAsync(sha, module);
            entries.Add(new DesiredEntry(w.ModuleId, selector, sha, Crc32Hex.Format(Crc32Hex.Compute(module)), w.Mode, w.Autostart));
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
    internal static async Task<List<PlanStep>> PlanAllAsync(DeviceRegistry devices, Reconciler reconciler, IReadOnlyList<DesiredEntry> desired, bool converge, CancellationToken ct)
    {
        var selected = devices.Describe().Where(d => desired.Any(e => e.Selector.Matches(d.Labels))).Select(d => d.Name).ToList();
        var plans = new List<PlanStep>[selected.Count];
        await Parallel.ForAsync(0, selected.Count, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (i, token) =>
            plans[i] = converge ? await reconciler.ConvergeAsync(selected[i], token) : await reconciler.PlanAsync(selected[i], desired, token));
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

/// <summary><c>diff</c>: how the devices differ from the gateway's desired state, from their own STATUS.</summary>
public sealed class DiffOp(DeviceRegistry devices, Reconciler? reconciler) : IOpHandler
{
    public string Op => HostOps.Diff;

    public async Task<HostResponse> HandleAsync(OpContext op)
    {
        if (reconciler is null)
        {
            throw new GatewayException(HostErrorCodes.Unsupported, "this gateway runs without a state file, so it keeps no desired state");
        }
        return new HostResponse { Ok = true, Plan = await ApplyOp.PlanAllAsync(devices, reconciler, reconciler.Desired, converge: false, op.Ct) };
    }
}
