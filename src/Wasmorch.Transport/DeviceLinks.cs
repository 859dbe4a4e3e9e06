namespace Wasmorch.Transport;

public static class DeviceLinks
{
    public static IDeviceLink Create(DeviceEndpoint endpoint, TimeSpan connectTimeout) => endpoint.Kind switch
    {
        EndpointKind.Tcp => new TcpDeviceLink(endpoint.Host, endpoint.Port, connectTimeout),
        _ => new SerialDeviceLink(endpoint),
    };
}
