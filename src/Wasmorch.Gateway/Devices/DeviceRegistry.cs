using Microsoft.Extensions.Logging;
using Wasmorch.Gateway.Config;
using Wasmorch.Gateway.State;
using Wasmorch.Transport;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Devices;

/// <summary>Logical device name → its session. The host never learns what kind of link is behind a name.</summary>
public sealed class DeviceRegistry : IAsyncDisposable
{
    private readonly Dictionary<string, (DeviceEndpoint Endpoint, DeviceSession Session)> _devices = new(StringComparer.Ordinal);

    private readonly GatewayState? _state;

    public DeviceRegistry(GatewayConfig config, ILogger logger, GatewayState? state = null)
    {
        _state = state;
        foreach (var (name, endpoint) in config.Devices)
        {
            state?.RecordDevice(name, endpoint.Text);
            var session = new DeviceSession(name, DeviceLinks.Create(endpoint, config.ConnectTimeout), config.ReplyTimeout, logger, state);
            session.LogReceived += (device, line) => Logs.Add(device.Name, line);
            _devices[name] = (endpoint, session);
        }
    }

    public LogHub Logs { get; } = new();

    public DeviceSession Get(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, "the request names no device");
        }
        return _devices.TryGetValue(name, out var device)
            ? device.Session
            : throw new GatewayException(HostErrorCodes.UnknownDevice,
                $"no device '{name}' in the device map (known: {(_devices.Count == 0 ? "none" : string.Join(", ", _devices.Keys.Order(StringComparer.Ordinal)))})");
    }

    public GatewayState? State => _state;

    public List<DeviceInfo> Describe()
    {
        var holdings = _state?.Holdings();
        return [.. _devices.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => new DeviceInfo
        {
            Name = d.Key,
            Endpoint = d.Value.Endpoint.Text,
            Connected = d.Value.Session.IsConnected,
            Modules = holdings is null ? null : holdings.GetValueOrDefault(d.Key) ?? [],
        })];
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, session) in _devices.Values)
        {
            await session.DisposeAsync();
        }
    }
}
