using System.Globalization;
using Tomlyn;
using Tomlyn.Model;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Transport;

namespace Wasmorch.Gateway.Config;

/// <summary>The gateway's settings and device map, from <c>wasmorch.toml</c> and the command line.</summary>
public sealed partial class GatewayConfig
{
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>OTLP/HTTP collector the gateway's traces go to (http://host:4318), or null: <c>[gateway] otlp</c>, <c>--otlp</c>.</summary>
    public string? Otlp { get; set; }

    /// <summary>address:port of the HTTP API (docs/http.md), or null for none: <c>[gateway] http</c>, <c>--http</c>.</summary>
    public string? Http { get; set; }

    /// <summary>DNS names of this gateway a browser may use for the HTTP API (<c>[gateway] http_hosts</c>); IP addresses and localhost need none.</summary>
    public List<string> HttpHosts { get; } = [];

    public int Port { get; set; } = 9000;

    /// <summary>
    /// Open every device's link at start (trying again, with back-off, while a board is off), so the
    /// device map shows what each board is from the start; false: a link opens on first use only.
    /// A link the far side closed opens again on the next request (<see cref="Devices.LinkKeeper"/>).
    /// </summary>
    public bool KeepLinks { get; set; } = true;

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

    /// <summary>The Rust compiler (<see cref="Build.BuildTools.Rustc"/>: Debian's by default).</summary>
    public string Rustc { get; set; } = Build.BuildTools.DebianRustc;

    /// <summary>Node.js, which runs the AssemblyScript compiler.</summary>
    public string Node { get; set; } = "node";

    /// <summary>The AssemblyScript compiler's bin/asc.js (null: the one scripts/setup.sh installs in tools/assemblyscript).</summary>
    public string? Asc { get; set; }

    /// <summary>Every language's tools, as the compilers take them.</summary>
    public Build.BuildTools BuildTools => new(Clang, WasmOpt, Rustc, Node, Asc);

    /// <summary>binaryen's optimizer, for builds that ask for wasm_opt.</summary>
    public string WasmOpt { get; set; } = "wasm-opt";

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

    /// <summary>Host connections from one address; at a cap, the longest-idle connection makes room.</summary>
    public int MaxConnectionsPerPeer { get; set; } = 64;

    /// <summary>The SQLite state file; null: <see cref="State.GatewayState.DefaultPath"/> for the port; "off": none.</summary>
    public string? StatePath { get; set; }

    public string CacheDirectory { get; set; } = Build.ArtifactCache.DefaultDirectory();

    public long CacheCapBytes { get; set; } = 256L * 1024 * 1024;

    public TimeSpan CompileTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Compiles at once (each capped at 2 GiB); null: as many as cores, within half the memory.</summary>
    public int? MaxParallelCompiles { get; set; }

    /// <summary>The link key file (docs/protocol.md §6a): null for the installation's, "off" for none.</summary>
    public string? LinkKeyPath { get; set; }

    /// <summary>The key itself, once <see cref="GatewayHost"/> read it; null: the gateway cannot authenticate to devices.</summary>
    public byte[]? LinkKey { get; set; }

    public Dictionary<string, DeviceEndpoint> Devices { get; } = new(StringComparer.Ordinal);

    /// <summary>[fleet] nats: the NATS server of the fleet this gateway joins (null: a gateway on its own).</summary>
    public string? FleetNats { get; set; }

    /// <summary>[fleet] name: this gateway's name in the fleet, unique in it.</summary>
    public string? FleetGatewayName { get; set; }

    /// <summary>[fleet] fleet: the namespace of the fleet's subjects and buckets, so fleets can share a server.</summary>
    public string FleetName { get; set; } = "default";

    /// <summary>[fleet] creds, tls_ca, tls_cert, tls_key: NATS credentials file and TLS files (docs/fleet.md).</summary>
    public string? FleetCreds { get; set; }

    public string? FleetTlsCa { get; set; }

    public string? FleetTlsCert { get; set; }

    public string? FleetTlsKey { get; set; }

    /// <summary>[fleet] key_file: this gateway's fleet signing key, '&lt;name&gt;:&lt;base64 Ed25519 private key&gt;' (wasmorch fleet init).</summary>
    public string? FleetKeyFile { get; set; }

    /// <summary>[fleet] trusted_gateways: gateway name → base64 Ed25519 public key, the fleet's gateways.</summary>
    public Dictionary<string, string> FleetTrustedGateways { get; } = new(StringComparer.Ordinal);

    /// <summary>[fleet] trusted_operators: operator name → base64 Ed25519 public key (forwarded requests, desired state, rollouts).</summary>
    public Dictionary<string, string> FleetTrustedOperators { get; } = new(StringComparer.Ordinal);

    /// <summary>[fleet] claim_lease_ms, silence_limit_ms, …: how long the fleet's parts wait, renew and give up (docs/fleet.md, Timings).</summary>
    public Fleet.FleetTimings FleetTimings { get; set; } = Fleet.FleetTimings.Default;

    /// <summary>[fleet] insecure_dev / --fleet-insecure: accept a NATS server without authentication, and no keys (development only).</summary>
    public bool FleetInsecureDev { get; set; }

    /// <summary>[fleet] replicas: copies of the fleet's buckets JetStream keeps (1 for one NATS server, 3 for a cluster).</summary>
    public int FleetReplicas { get; set; } = 1;

    /// <summary>Devices that take only signed modules (<c>require_signed = true</c>).</summary>
    public HashSet<string> RequireSigned { get; } = new(StringComparer.Ordinal);

    /// <summary>[devices.x] labels: what selectors match a device by (besides those its HELLO_OK gives).</summary>
    public Dictionary<string, Dictionary<string, string>> Labels { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// [devices.x] grants: for each module id (or <c>"*"</c>, any module) the capabilities it may use on
    /// the device (docs/protocol.md §6c). A device without grants lets modules use whatever it
    /// offers; one with grants, only what they name.
    /// </summary>
    public Dictionary<string, Dictionary<string, IReadOnlySet<string>>> Grants { get; } = new(StringComparer.Ordinal);

    /// <summary>What <paramref name="moduleId"/> may use on <paramref name="device"/>: its grant and the <c>"*"</c> grant, or null when the device has no grants.</summary>
    public IReadOnlySet<string>? GrantedTo(string device, string moduleId)
    {
        if (!Grants.TryGetValue(device, out var grants))
        {
            return null;
        }
        var granted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in new[] { moduleId, AnyModule })
        {
            if (grants.TryGetValue(key, out var caps))
            {
                granted.UnionWith(caps);
            }
        }
        return granted;
    }

    /// <summary>The grants key that applies to every module id.</summary>
    public const string AnyModule = "*";

    private static string? GrantProblem(string moduleId, string? capability) =>
        capability is null
            ? moduleId == AnyModule || Wasmorch.Protocol.Agent.ModuleId.IsValid(moduleId) ? null : $"'{moduleId}' is not a module id ([A-Za-z0-9_.-]{{1,32}}) or \"*\""
            : Wasmorch.Protocol.Modules.Capabilities.Known.Contains(capability) ? null
            : $"unknown capability '{capability}' (known: {string.Join(", ", Wasmorch.Protocol.Modules.Capabilities.Known)})";

    /// <summary>Labels a board gives of itself in HELLO_OK; the device map may not set them.</summary>
    public static readonly IReadOnlySet<string> AutomaticLabels = new HashSet<string>(["board", "runtime", "runtime_version", "gateway"], StringComparer.Ordinal);

    private static string? LabelProblem(string key, string value) =>
        !Wasmorch.Protocol.HostApi.Selector.IsKey(key) ? "a label key must be 1 to 63 of a-z 0-9 _ . - starting with a letter or digit"
        : AutomaticLabels.Contains(key) ? $"'{key}' is set by the board itself (HELLO_OK) or the fleet, not in the device map"
        : !Wasmorch.Protocol.HostApi.Selector.IsValue(value) ? $"'{value}' is not a label value: 1 to 63 of A-Z a-z 0-9 _ . - / +"
        : null;

    /// <summary>Ed25519 public keys (base64) whose signatures the gateway accepts.</summary>
    public List<string> TrustedKeys { get; } = [];

    /// <summary>Devices marked <c>emulate = true</c>: <c>wasmorch emulate --config</c> serves them.</summary>
    public HashSet<string> Emulated { get; } = new(StringComparer.Ordinal);

    public static GatewayConfig Load(string path) => From(TomlSection.RootOfFile(path, "config "), path);

    public static GatewayConfig Parse(string text, string origin) => From(TomlSection.Root(text, origin), origin);

    private static GatewayConfig From(TomlSection file, string origin)
    {
        var config = new GatewayConfig();
        if (file.Table("gateway") is { } gateway)
        {
            config.BindAddress = gateway.String("bind") ?? config.BindAddress;
            config.Token = gateway.String("token") ?? config.Token;
            config.Http = gateway.String("http") ?? config.Http;
            config.Otlp = gateway.String("otlp") ?? config.Otlp;
            config.HttpHosts.AddRange(gateway.Strings("http_hosts") ?? []);
            config.StatePath = gateway.String("state") ?? config.StatePath;
            config.TlsCertificate = gateway.String("tls_cert") ?? config.TlsCertificate;
            config.TlsKey = gateway.String("tls_key") ?? config.TlsKey;
            config.LinkKeyPath = gateway.String("link_key") ?? config.LinkKeyPath;
            config.MaxConnections = (int)(gateway.Integer("max_connections", 1, 65_536) ?? config.MaxConnections);
            config.MaxConnectionsPerPeer = (int)(gateway.Integer("max_connections_per_peer", 1, 65_536) ?? config.MaxConnectionsPerPeer);
            config.IdleTimeout = gateway.Millis("idle_timeout_ms", 1_000, 86_400_000) ?? config.IdleTimeout;
            config.PartialRequestTimeout = gateway.Millis("partial_request_timeout_ms", 100, 600_000) ?? config.PartialRequestTimeout;
            config.Port = (int)(gateway.Integer("port", 0, 65_535) ?? config.Port);
            config.ReplyTimeout = gateway.Millis("reply_timeout_ms", 100, 600_000) ?? config.ReplyTimeout;
            config.KeepLinks = gateway.Bool("keep_links") ?? config.KeepLinks;
            config.DefaultResultTimeout = gateway.Millis("result_timeout_ms", 1, 86_400_000) ?? config.DefaultResultTimeout;
            // A request line carries at most 1 MiB (the module in base64): larger limits could never be reached.
            config.MaxModuleBytes = (int)(gateway.Integer("max_module_bytes", 1, HostJson.MaxRequestBytes / 4 * 3, " (bytes)") ?? config.MaxModuleBytes);
            config.MaxSourceBytes = (int)(gateway.Integer("max_source_bytes", 1, HostJson.MaxRequestBytes, " (bytes)") ?? config.MaxSourceBytes);
            gateway.RejectUnknown();
        }
        if (file.Table("build") is { } build)
        {
            config.Clang = build.String("clang") ?? config.Clang;
            config.Wamrc = build.String("wamrc") ?? config.Wamrc;
            config.Rustc = build.String("rustc") ?? config.Rustc;
            config.Node = build.String("node") ?? config.Node;
            config.Asc = build.String("asc") ?? config.Asc;
            config.WasmOpt = build.String("wasm_opt") ?? config.WasmOpt;
            config.Sandbox = build.String("sandbox") ?? config.Sandbox;
            if (config.Sandbox is not ("bwrap" or "off"))
            {
                throw new ConfigException($"{origin}: [build] sandbox: must be \"bwrap\" or \"off\", not \"{config.Sandbox}\"");
            }
            config.CacheDirectory = build.String("cache_dir") ?? config.CacheDirectory;
            config.CacheCapBytes = build.Integer("cache_max_bytes", 1 << 20, 1L << 40, " (bytes)") ?? config.CacheCapBytes;
            config.CompileTimeout = build.Millis("timeout_ms", 1_000, 600_000) ?? config.CompileTimeout;
            config.MaxParallelCompiles = (int?)build.Integer("max_parallel", 1, 64) ?? config.MaxParallelCompiles;
            build.RejectUnknown();
        }
        if (file.Table("fleet") is { } fleet)
        {
            config.FleetNats = fleet.String("nats") ?? config.FleetNats;
            config.FleetGatewayName = fleet.String("name") ?? config.FleetGatewayName;
            config.FleetName = fleet.String("fleet") ?? config.FleetName;
            config.FleetCreds = fleet.String("creds") ?? config.FleetCreds;
            config.FleetTlsCa = fleet.String("tls_ca") ?? config.FleetTlsCa;
            config.FleetTlsCert = fleet.String("tls_cert") ?? config.FleetTlsCert;
            config.FleetTlsKey = fleet.String("tls_key") ?? config.FleetTlsKey;
            config.FleetReplicas = (int)(fleet.Integer("replicas", 1, 5) ?? config.FleetReplicas);
            // Relative to the config file: `wasmorch fleet init` writes the key next to it.
            config.FleetKeyFile = fleet.String("key_file") is { } keyFile ? Path.GetFullPath(keyFile, Path.GetDirectoryName(Path.GetFullPath(origin)) ?? ".") : config.FleetKeyFile;
            foreach (var (name, key) in fleet.StringTable("trusted_gateways", static (_, _) => null) ?? [])
            {
                config.FleetTrustedGateways[name] = key;
            }
            foreach (var (name, key) in fleet.StringTable("trusted_operators", static (_, _) => null) ?? [])
            {
                config.FleetTrustedOperators[name] = key;
            }
            config.FleetInsecureDev = fleet.Bool("insecure_dev") ?? config.FleetInsecureDev;
            config.FleetTimings = ReadFleetTimings(fleet, config.FleetTimings);
            fleet.RejectUnknown();
        }
        if (file.Table("signing") is { } signing)
        {
            config.TrustedKeys.AddRange(signing.Strings("trusted_keys") ?? []);
            signing.RejectUnknown();
        }
        if (file.Table("devices") is { } devices)
        {
            foreach (var (name, device) in devices.Tables())
            {
                var endpoint = device.String("endpoint") ?? throw new ConfigException($"{origin}: {device.Name} has no endpoint");
                config.AddDevice(name, endpoint, origin);
                if (device.Bool("require_signed") == true)
                {
                    config.RequireSigned.Add(name);
                }
                if (device.Bool("emulate") == true)
                {
                    config.Emulated.Add(name);
                }
                if (device.StringTable("labels", LabelProblem) is { } labels)
                {
                    config.Labels[name] = labels;
                }
                if (device.ListTable("grants", GrantProblem) is { } grants)
                {
                    config.Grants[name] = grants.ToDictionary(g => g.Key, g => (IReadOnlySet<string>)g.Value.ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
                }
                device.RejectUnknown();
            }
        }
        file.RejectUnknown();
        return config;
    }

    /// <summary>
    /// The rules for listening, checked at start and by --check-config: the bind address is an IP
    /// address; off loopback a token is required (or an explicit --insecure); a token has at least 16
    /// characters. <see cref="Token"/> falls back to WASMORCH_TOKEN here.
    /// </summary>
    public System.Net.IPAddress CheckListen()
    {
        if (!System.Net.IPAddress.TryParse(BindAddress, out var address))
        {
            throw new ConfigException($"bind address '{BindAddress}' is not an IP address");
        }
        Token ??= EnvironmentToken();
        if (!System.Net.IPAddress.IsLoopback(address) && Token is null && !Insecure)
        {
            throw new ConfigException(
                $"refusing to listen on {address} without a token: anyone who reaches it could run code on your boards. " +
                "Set [gateway] token or WASMORCH_TOKEN, or pass --insecure on a network you trust.");
        }
        if (Token is { } secret && (secret.Length < 16 || secret.Any(char.IsWhiteSpace)))
        {
            throw new ConfigException("the gateway token must be at least 16 characters, none of them white space");
        }
        return address;
    }

    /// <summary>WASMORCH_TOKEN, when set and not empty: the token of a gateway whose configuration names none.</summary>
    private static string? EnvironmentToken() => Environment.GetEnvironmentVariable("WASMORCH_TOKEN") is { Length: > 0 } token ? token : null;

    /// <summary>
    /// The host API's TLS certificate with its key, loaded at start and by --check-config; null
    /// when neither tls_cert nor tls_key is set.
    /// </summary>
    /// <exception cref="ConfigException">Only one of the two is set, or they do not load together.</exception>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? LoadTlsCertificate()
    {
        if (TlsCertificate is null && TlsKey is null)
        {
            return null;
        }
        if (TlsCertificate is null || TlsKey is null)
        {
            throw new ConfigException("TLS needs both a certificate and its key (tls_cert and tls_key, or --tls-cert and --tls-key)");
        }
        try
        {
            return System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(TlsCertificate, TlsKey);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new ConfigException($"cannot load the TLS certificate {TlsCertificate} with key {TlsKey}: {ex.Message}");
        }
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
