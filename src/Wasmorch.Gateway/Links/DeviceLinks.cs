using Wasmorch.Gateway.Config;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Links;

public static class DeviceLinks
{
    public static IDeviceLink Create(DeviceEndpoint endpoint, GatewayConfig config) => endpoint.Kind switch
    {
        EndpointKind.Tcp => new TcpDeviceLink(endpoint.Host, endpoint.Port, config.ConnectTimeout),
        _ => new UnsupportedLink(endpoint),
    };

    private sealed class UnsupportedLink : IDeviceLink
    {
        private readonly DeviceEndpoint _endpoint;

        public UnsupportedLink(DeviceEndpoint endpoint) => _endpoint = endpoint;

        public string Description => _endpoint.Text;

        public Task<Stream> OpenAsync(CancellationToken ct) =>
            throw new GatewayException(HostErrorCodes.Unsupported, $"{_endpoint.Text}: serial endpoints are not supported by this gateway build yet");
    }
}
