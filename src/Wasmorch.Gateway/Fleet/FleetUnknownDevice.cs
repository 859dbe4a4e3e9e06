using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Fleet;

/// <summary>
/// UNKNOWN_DEVICE on a gateway of a fleet (or through the fleet itself): every gateway's device
/// may be named there, so the error lists the fleet's devices with their gateways, not only one map.
/// </summary>
public static class FleetUnknownDevice
{
    public static async Task<GatewayException> ErrorAsync(IFleet fleet, IEnumerable<string> own, string device, CancellationToken ct) =>
        new(HostErrorCodes.UnknownDevice,
            $"no device '{device}' in this gateway's map, and no gateway of its fleet owns one (the fleet's devices: {await ListAsync(fleet, own, ct)})");

    /// <summary>"disco (gw-b), nucleo (gw-a)": the fleet's devices and <paramref name="own"/> (this gateway's), by name; "none".</summary>
    public static async Task<string> ListAsync(IFleet fleet, IEnumerable<string> own, CancellationToken ct)
    {
        var known = own.Select(d => (Device: d, Gateway: fleet.GatewayName)).ToList();
        try
        {
            known.AddRange((await fleet.DevicesAsync(ct)).Select(d => (d.Device, d.Gateway)));
        }
        catch (GatewayException)
        {
            // The fleet's list out of reach: this gateway's own devices are still worth naming.
        }
        var listed = known.DistinctBy(d => d.Device).OrderBy(d => d.Device, StringComparer.Ordinal).Select(d => $"{d.Device} ({d.Gateway})").ToList();
        return listed.Count == 0 ? "none" : string.Join(", ", listed);
    }
}
