using Wasmorch.Gateway.Desired;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Fleet;

/// <summary>The other gateways' part of a fleet-wide <c>apply</c> or <c>diff</c>: each plans (or converges) its own devices.</summary>
public static class FleetPlans
{
    /// <summary>
    /// Hands <paramref name="request"/> to every other gateway owning a device of
    /// <paramref name="described"/> that <paramref name="desired"/> selects, and gathers their plans.
    /// The devices of a gateway that cannot be reached are in the plan as unreachable, with why.
    /// </summary>
    public static async Task<List<PlanStep>> ForwardAsync(IFleet fleet, List<DeviceInfo> described, HostRequest request, IReadOnlyList<DesiredEntry> desired, CancellationToken ct)
    {
        var gateways = described
            .Where(d => d.Gateway is { } g && g != fleet.GatewayName && desired.Any(e => e.Selector.Matches(d.Labels)))
            .GroupBy(d => d.Gateway!)
            .ToList();
        var plans = await Task.WhenAll(gateways.Select(async group =>
        {
            try
            {
                var answer = await fleet.ForwardAsync(group.Key, request, null, ct);
                if (answer.Plan is { } plan)
                {
                    return plan;
                }
                return Unreachable(group, desired, answer.Error ?? new HostError { Code = HostErrorCodes.Internal, Message = $"gateway '{group.Key}' answered without a plan" });
            }
            catch (GatewayException ex)
            {
                return Unreachable(group, desired, new HostError { Code = ex.Code, Message = ex.Message });
            }
        }));
        return [.. plans.SelectMany(p => p)];
    }

    private static List<PlanStep> Unreachable(IEnumerable<DeviceInfo> devices, IReadOnlyList<DesiredEntry> desired, HostError error) =>
        [.. devices.SelectMany(d => desired.Where(e => e.Selector.Matches(d.Labels))
            .Select(e => new PlanStep { Device = d.Name, ModuleId = e.ModuleId, State = "unreachable", Error = error }))];
}
