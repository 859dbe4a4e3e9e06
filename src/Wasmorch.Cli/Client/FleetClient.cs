using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Wasmorch.Fleet;
using Wasmorch.Gateway;
using Wasmorch.Gateway.Fleet;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli.Client;

/// <summary>The CLI's requests sent straight to the fleet: to the device's gateway, or to every gateway for <c>devices</c>.</summary>
public static class FleetClient
{
    /// <summary>The fleet at <paramref name="address"/>, opened as an observer: the CLI claims nothing and serves nothing.</summary>
    public static async Task<NatsFleet> ObserveAsync(FleetAddress address, CancellationToken ct)
    {
        var (url, trust) = Trust(address);
        // An observer forwards requests: the silence it tolerates and the margin it grants are the fleet's defaults.
        var fleet = new NatsFleet(url, $"cli-{Environment.ProcessId}", address.Fleet, NullLogger.Instance, trust: trust, timings: FleetTimings.Default);
        try
        {
            await fleet.ObserveAsync(ct);
            return fleet;
        }
        catch (GatewayException ex)
        {
            await fleet.DisposeAsync();
            throw await FleetsOnServer.ExplainAsync(address, url, ex, ct);
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// The operator's key and the fleet's gateway keys, from <see cref="FleetAddress.Keys"/>; none
    /// without it (a development fleet). An address without credentials takes the operator's NATS
    /// URL from there too, so no password needs to be on a command line.
    /// </summary>
    private static (string Url, FleetTrust? Trust) Trust(FleetAddress address)
    {
        if (address.Keys is null)
        {
            return (address.NatsUrl, null);
        }
        try
        {
            var config = Gateway.Config.GatewayConfig.Load(address.Keys);
            var keyFile = config.FleetKeyFile ?? throw new GatewayException(HostErrorCodes.BadRequest, $"{address.Keys}: [fleet] has no key_file");
            var url = !address.NatsUrl.Contains('@', StringComparison.Ordinal) && config.FleetNats is { } withCredentials ? withCredentials : address.NatsUrl;
            return (url, FleetTrust.Load(keyFile, config.FleetTrustedGateways, config.FleetTrustedOperators, config.FleetTimings.TrustWindow));
        }
        catch (Exception ex) when (ex is Gateway.Config.ConfigException or FleetTrustException)
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"fleet keys '{address.Keys}': {ex.Message}");
        }
    }

    public static async Task<(HostResponse Response, TimeSpan Latency)> SendAsync(FleetAddress address, HostRequest request, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        HostResponse response;
        try
        {
            await using var fleet = await ObserveAsync(address, ct);
            if (request.Device is { Length: > 0 } device)
            {
                var owner = await fleet.OwnerOfAsync(device, ct)
                    ?? throw new GatewayException(HostErrorCodes.UnknownDevice,
                        $"no gateway of fleet '{address.Fleet}' owns a device '{device}' (the fleet's devices: {await FleetUnknownDevice.ListAsync(fleet, [], ct)})");
                response = await fleet.ForwardAsync(owner, request, null, ct);
                response.Gateway = owner;
            }
            else if (request.Op == HostOps.Devices)
            {
                response = new HostResponse { Ok = true, Devices = await FleetDevices.DescribeAsync(fleet, [], ct) };
            }
            else
            {
                throw new GatewayException(HostErrorCodes.Unsupported, $"'{request.Op}' without a device needs a gateway (--gateway host:port); through the fleet only device commands and devices are served");
            }
        }
        catch (GatewayException ex)
        {
            response = new HostResponse { Ok = false, Error = new HostError { Code = ex.Code, Message = ex.Message } };
        }
        response.Id = request.Id;
        return (response, clock.Elapsed);
    }
}
