using Microsoft.Extensions.Logging;
using Wasmorch.Gateway.Config;
using Wasmorch.Gateway.State;
using Wasmorch.Transport;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Devices;

/// <summary>
/// Logical device name → the device. The host never learns what kind of link is behind a name.
/// The state file, when there is one, observes every session and answers the read-only questions
/// (what each device holds, the job history).
/// </summary>
public sealed partial class DeviceRegistry : IAsyncDisposable
{
    private readonly Dictionary<string, (string Endpoint, IDevice Device)> _devices = new(StringComparer.Ordinal);

    private readonly GatewayState? _state;

    /// <param name="observer">Besides the state file, who else is told what happens on devices (the fleet).</param>
    private readonly Dictionary<string, Dictionary<string, string>> _labels;

    /// <summary>This gateway's name in its fleet (every device of it has the label gateway=…), or null outside one.</summary>
    private readonly string? _gateway;

    public DeviceRegistry(GatewayConfig config, ILogger logger, GatewayState? state = null, IDeviceObserver? observer = null)
    {
        _state = state;
        _labels = config.Labels;
        _gateway = config.FleetNats is null ? null : config.FleetGatewayName;
        observer = DeviceObservers.Of(state is null ? null : new StateRecorder(state), observer);
        foreach (var (name, endpoint) in config.Devices)
        {
            observer?.Mapped(name, endpoint.Text);
            var session = new DeviceSession(name, DeviceLinks.Create(endpoint, config.ConnectTimeout), config.ReplyTimeout, logger, observer, config.LinkKey);
            session.LogReceived += (device, line) => Logs.Add(device.Name, line);
            session.EventReceived += (device, report) => Events.Add(device.Name, report);
            _devices[name] = (endpoint.Text, session);
        }
    }

    /// <summary>
    /// A device behind another implementation of <see cref="IDevice"/> than a link's session: the
    /// unit tests' scripted devices. (A device of another gateway of a fleet is not one: it is
    /// reached through <see cref="Operations.IDeviceOperations"/>.) Its name must be new.
    /// </summary>
    internal void Add(IDevice device, string endpoint)
    {
        if (!_devices.TryAdd(device.Name, (endpoint, device)))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"device '{device.Name}' is already in the device map");
        }
    }

    public LogHub Logs { get; } = new();

    /// <summary>What modules published (§6c).</summary>
    public EventHub Events { get; } = new();

    public IDevice Get(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, "the request names no device");
        }
        return _devices.TryGetValue(name, out var device)
            ? device.Device
            : throw new GatewayException(HostErrorCodes.UnknownDevice,
                $"no device '{name}' in the device map (known: {(_devices.Count == 0 ? "none" : string.Join(", ", _devices.Keys.Order(StringComparer.Ordinal)))})");
    }

    public GatewayState? State => _state;

    /// <summary>Whether <paramref name="name"/> is one of this gateway's own devices.</summary>
    public bool Contains(string name) => _devices.ContainsKey(name);

    /// <summary>The sessions of this gateway's own links.</summary>
    public IEnumerable<DeviceSession> Sessions => _devices.Values.Select(d => d.Device).OfType<DeviceSession>();

    /// <summary>This gateway's devices, by name.</summary>
    public IReadOnlyCollection<string> Names => _devices.Keys;

    /// <summary>For ops where the device is optional (logs, jobs): a named device must be in the map.</summary>
    public void RequireKnownIfNamed(string? name)
    {
        if (name is not null)
        {
            Get(name);
        }
    }

    public List<DeviceInfo> Describe()
    {
        var holdings = _state?.Holdings();
        var seen = _state?.DevicesSeen();
        return [.. _devices.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => new DeviceInfo
        {
            Name = d.Key,
            Endpoint = d.Value.Endpoint,
            Connected = d.Value.Device.IsConnected,
            Modules = holdings is null ? null : holdings.GetValueOrDefault(d.Key) ?? [],
            Labels = LabelsOf(d.Key, d.Value.Device),
            Agent = seen?.GetValueOrDefault(d.Key).Agent,
            LastSeen = seen?.GetValueOrDefault(d.Key).LastSeen,
        })];
    }

    /// <summary>The labels the device map gives <paramref name="name"/> (none of the board's own): what its fleet claim carries.</summary>
    public IReadOnlyDictionary<string, string>? MapLabelsOf(string name) => _labels.GetValueOrDefault(name);

    /// <summary>The labels of one device (what selectors match), without describing the whole map.</summary>
    public Dictionary<string, string>? LabelsOf(string name) => _devices.TryGetValue(name, out var entry) ? LabelsOf(name, entry.Device) : null;

    /// <summary>The device map's labels of <paramref name="name"/>, and what its board said of itself in HELLO_OK.</summary>
    private Dictionary<string, string> LabelsOf(string name, IDevice device)
    {
        var labels = _labels.TryGetValue(name, out var configured) ? new Dictionary<string, string>(configured, StringComparer.Ordinal) : new(StringComparer.Ordinal);
        if (_gateway is not null)
        {
            // The same label the fleet's device list gives, so that apply, diff, rollouts and signed deploys select by it here too.
            labels["gateway"] = _gateway;
        }
        if (device.Capabilities?.Fields is { } hello)
        {
            if (hello.TryGetValue("board", out var board) && Protocol.HostApi.Selector.IsValue(board))
            {
                labels["board"] = board;
            }
            // runtime=wamr/2.4.3: the name and the version are two labels, so runtime=wamr selects every version.
            if (hello.TryGetValue("runtime", out var runtime) && runtime.Split('/', 2) is [var engine, .. var version])
            {
                if (Protocol.HostApi.Selector.IsValue(engine))
                {
                    labels["runtime"] = engine;
                }
                if (version is [var v] && Protocol.HostApi.Selector.IsValue(v))
                {
                    labels["runtime_version"] = v;
                }
            }
        }
        return labels;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, device) in _devices.Values)
        {
            if (device is IAsyncDisposable disposable)
            {
                await disposable.DisposeAsync();
            }
        }
    }
}
