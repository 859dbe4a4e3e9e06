using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Fleet;

/// <summary>The device list of a whole fleet: each device as its own gateway describes it, named by that gateway.</summary>
public static class FleetDevices
{
    /// <summary>
    /// Adds to <paramref name="list"/> (the caller's own devices, if it has any) every device the
    /// other gateways of <paramref name="fleet"/> claim; those of a gateway that does not answer are
    /// listed as <see cref="DeviceInfo.GatewayLost"/>, not left out, with the device map's labels
    /// their claims carry (docs/fleet-ops.md), so that a selector still selects them.
    /// </summary>
    public static async Task<List<DeviceInfo>> DescribeAsync(IFleet fleet, List<DeviceInfo> list, CancellationToken ct)
    {
        foreach (var group in (await fleet.DevicesAsync(ct)).Where(d => d.Gateway != fleet.GatewayName).GroupBy(d => d.Gateway))
        {
            Dictionary<string, DeviceInfo>? described = null;
            try
            {
                var remote = await fleet.ForwardAsync(group.Key, new HostRequest { Op = HostOps.Devices }, null, ct);
                described = (remote.Devices ?? []).ToDictionary(d => d.Name, StringComparer.Ordinal);
            }
            catch (GatewayException ex) when (ex.Code is HostErrorCodes.DeviceUnreachable or HostErrorCodes.Timeout)
            {
                // Its gateway is gone: the devices are listed, as out of reach.
            }
            foreach (var (device, gateway, claimed) in group)
            {
                // A device its gateway does not describe (the gateway is lost): the labels its signed claim carries.
                var info = described?.GetValueOrDefault(device)
                    ?? new DeviceInfo { Name = device, Endpoint = "-", Labels = claimed is null ? null : new(claimed, StringComparer.Ordinal) };
                info.Gateway = gateway;
                info.GatewayLost = described is null ? true : null;
                list.Add(info);
            }
        }
        foreach (var info in list.Where(d => d.Gateway is not null))
        {
            // In a fleet, the gateway is a label too: --selector gateway=gw-b.
            (info.Labels ??= new(StringComparer.Ordinal))["gateway"] = info.Gateway!;
        }
        list.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return list;
    }
}
