using System.Globalization;
using Tomlyn;
using Tomlyn.Model;
using Wasmorch.Transport;

namespace Wasmorch.Gateway.Config;

/// <summary>The gateway's settings and device map, from <c>wasmorch.toml</c> and the command line.</summary>
public sealed class GatewayConfig
{
    public string BindAddress { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 9000;

    /// <summary>How long a device may take to answer a command line.</summary>
    public TimeSpan ReplyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a TCP connect to a device may take.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Default wait for <c>start --wait-result</c> when the request names none.</summary>
    public TimeSpan DefaultResultTimeout { get; set; } = TimeSpan.FromSeconds(60);

    public int MaxModuleBytes { get; set; } = 256 * 1024;

    public int MaxSourceBytes { get; set; } = 256 * 1024;

    public string Clang { get; set; } = "clang";

    public string Wamrc { get; set; } = "wamrc";

    /// <summary>"bwrap" (default): build tools run in a bubblewrap sandbox; "off": as the gateway's user.</summary>
    public string Sandbox { get; set; } = "bwrap";

    /// <summary>Required of every request when set (config or WASMORCH_TOKEN); compared in constant time.</summary>
    public string? Token { get; set; }

    /// <summary>PEM certificate (chain) for TLS on the host API; with <see cref="TlsKey"/>. Null: plain TCP.</summary>
    public string? TlsCertificate { get; set; }

    /// <summary>PEM private key of <see cref="TlsCertificate"/>.</summary>
    public string? TlsKey { get; set; }

    /// <summary>Listen beyond loopback without a token (explicit --insecure only).</summary>
    public bool Insecure { get; set; }

    /// <summary>A host connection with nothing in flight and nothing sent for this long is closed.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A request line begun but not finished for this long (a slow or stuck client) closes the connection.</summary>
    public TimeSpan PartialRequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Host connections at once; more are refused.</summary>
    public int MaxConnections { get; set; } = 256;

    /// <summary>The SQLite state file; null: <see cref="State.GatewayState.DefaultPath"/> for the port; "off": none.</summary>
    public string? StatePath { get; set; }

    public string CacheDirectory { get; set; } = Build.ArtifactCache.DefaultDirectory();

    public long CacheCapBytes { get; set; } = 256L * 1024 * 1024;

    public TimeSpan CompileTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The link key file (docs/protocol.md §6a): null for the installation's, "off" for none.</summary>
    public string? LinkKeyPath { get; set; }

    /// <summary>The key itself, once <see cref="GatewayHost"/> read it; null: the gateway cannot authenticate to devices.</summary>
    public byte[]? LinkKey { get; set; }

    public Dictionary<string, DeviceEndpoint> Devices { get; } = new(StringComparer.Ordinal);

    /// <summary>Devices that take only signed modules (<c>require_signed = true</c>).</summary>
    public HashSet<string> RequireSigned { get; } = new(StringComparer.Ordinal);

    /// <summary>Ed25519 public keys (base64) whose signatures the gateway accepts.</summary>
    public List<string> TrustedKeys { get; } = [];

    /// <summary>Devices marked <c>emulate = true</c>: <c>wasmorch emulate --config</c> serves them.</summary>
    public HashSet<string> Emulated { get; } = new(StringComparer.Ordinal);

    public static GatewayConfig Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"cannot read config {path}: {ex.Message}");
        }
        return Parse(text, path);
    }

    public static GatewayConfig Parse(string text, string origin)
    {
        TomlTable root;
        try
        {
            root = TomlSerializer.Deserialize<TomlTable>(text, TomlModelContext.Default) ?? new TomlTable();
        }
        catch (TomlException ex)
        {
            throw new ConfigException($"{origin}: {ex.Message}");
        }
        var config = new GatewayConfig();
        if (Table(root, "gateway", origin) is { } gateway)
        {
            config.BindAddress = String(gateway, "bind", origin) ?? config.BindAddress;
            config.Token = String(gateway, "token", origin) ?? config.Token;
            config.StatePath = String(gateway, "state", origin) ?? config.StatePath;
            config.TlsCertificate = String(gateway, "tls_cert", origin) ?? config.TlsCertificate;
            config.TlsKey = String(gateway, "tls_key", origin) ?? config.TlsKey;
            config.LinkKeyPath = String(gateway, "link_key", origin) ?? config.LinkKeyPath;
            config.MaxConnections = (int)(Integer(gateway, "max_connections", origin) ?? config.MaxConnections);
            config.IdleTimeout = Millis(gateway, "idle_timeout_ms", origin) ?? config.IdleTimeout;
            config.PartialRequestTimeout = Millis(gateway, "partial_request_timeout_ms", origin) ?? config.PartialRequestTimeout;
            config.Port = (int)(Integer(gateway, "port", origin) ?? config.Port);
            config.ReplyTimeout = Millis(gateway, "reply_timeout_ms", origin) ?? config.ReplyTimeout;
            config.DefaultResultTimeout = Millis(gateway, "result_timeout_ms", origin) ?? config.DefaultResultTimeout;
            config.MaxModuleBytes = (int)(Integer(gateway, "max_module_bytes", origin) ?? config.MaxModuleBytes);
            config.MaxSourceBytes = (int)(Integer(gateway, "max_source_bytes", origin) ?? config.MaxSourceBytes);
        }
        if (Table(root, "build", origin) is { } build)
        {
            config.Clang = String(build, "clang", origin) ?? config.Clang;
            config.Wamrc = String(build, "wamrc", origin) ?? config.Wamrc;
            config.Sandbox = String(build, "sandbox", origin) ?? config.Sandbox;
            if (config.Sandbox is not ("bwrap" or "off"))
            {
                throw new ConfigException($"{origin}: [build] sandbox must be \"bwrap\" or \"off\"");
            }
            config.CacheDirectory = String(build, "cache_dir", origin) ?? config.CacheDirectory;
            config.CacheCapBytes = Integer(build, "cache_max_bytes", origin) ?? config.CacheCapBytes;
            config.CompileTimeout = Millis(build, "timeout_ms", origin) ?? config.CompileTimeout;
        }
        if (Table(root, "signing", origin) is { } signing && signing.TryGetValue("trusted_keys", out var keys))
        {
            if (keys is not TomlArray array || array.Any(k => k is not string))
            {
                throw new ConfigException($"{origin}: [signing] trusted_keys must be a list of base64 public keys");
            }
            config.TrustedKeys.AddRange(array.OfType<string>());
        }
        if (Table(root, "devices", origin) is { } devices)
        {
            foreach (var (name, value) in devices)
            {
                if (value is not TomlTable device)
                {
                    throw new ConfigException($"{origin}: [devices.{name}] must be a table with endpoint = \"...\"");
                }
                var endpoint = String(device, "endpoint", origin)
                    ?? throw new ConfigException($"{origin}: [devices.{name}] has no endpoint");
                config.AddDevice(name, endpoint, origin);
                if (device.TryGetValue("require_signed", out var signed) && signed is true)
                {
                    config.RequireSigned.Add(name);
                }
                if (device.TryGetValue("emulate", out var emulate))
                {
                    if (emulate is not bool flag)
                    {
                        throw new ConfigException($"{origin}: [devices.{name}] emulate must be true or false");
                    }
                    if (flag)
                    {
                        config.Emulated.Add(name);
                    }
                }
            }
        }
        return config;
    }

    public void AddDevice(string name, string endpoint, string origin)
    {
        if (!Wasmorch.Protocol.Agent.ModuleId.IsValid(name))
        {
            throw new ConfigException($"{origin}: device name '{name}' must match [A-Za-z0-9_.-]{{1,32}}");
        }
        if (!DeviceEndpoint.TryParse(endpoint, out var parsed, out var error))
        {
            throw new ConfigException($"{origin}: device {name}: {error}");
        }
        Devices[name] = parsed;
    }

    private static TomlTable? Table(TomlTable parent, string key, string origin) =>
        !parent.TryGetValue(key, out var value) ? null
        : value as TomlTable ?? throw new ConfigException($"{origin}: '{key}' must be a table");

    private static string? String(TomlTable table, string key, string origin) =>
        !table.TryGetValue(key, out var value) ? null
        : value as string ?? throw new ConfigException($"{origin}: '{key}' must be a string");

    private static long? Integer(TomlTable table, string key, string origin) =>
        !table.TryGetValue(key, out var value) ? null
        : value is long l && l >= 0 ? l : throw new ConfigException($"{origin}: '{key}' must be a non-negative integer");

    private static TimeSpan? Millis(TomlTable table, string key, string origin) =>
        Integer(table, key, origin) is { } ms ? TimeSpan.FromMilliseconds(ms) : null;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{BindAddress}:{Port} with {Devices.Count} device(s)");
}

public sealed class ConfigException : Exception
{
    public ConfigException(string message)
        : base(message)
    {
    }

    public ConfigException()
    {
    }

    public ConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
