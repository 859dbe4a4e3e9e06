namespace Wasmorch.Protocol.HostApi;

/// <summary>One request from a host to the gateway: one JSON object per line, <c>id</c> echoed back.</summary>
public sealed class HostRequest
{
    public long Id { get; set; }

    /// <summary>One of <see cref="HostOps"/>.</summary>
    public string? Op { get; set; }

    public string? Device { get; set; }

    public string? ModuleId { get; set; }

    public string? Func { get; set; }

    public string? Args { get; set; }

    public bool WaitResult { get; set; }

    /// <summary>The gateway's access token, when it requires one (non-loopback gateways).</summary>
    public string? Token { get; set; }

    /// <summary>Source text (C, C++, Rust, AssemblyScript) for <c>build_and_deploy</c>; the gateway never reads a path a host names.</summary>
    public string? Source { get; set; }

    /// <summary>File name shown in compiler diagnostics (no directories); its extension names the language.</summary>
    public string? SourceName { get; set; }

    /// <summary>The source's language when its name's extension does not say: c, cpp, rust, as.</summary>
    public string? Lang { get; set; }

    /// <summary>
    /// Files beside the source that it uses (a Rust module's <c>mod</c> files, AssemblyScript imports),
    /// by path relative to the source's folder → text; only these are in the build's sandbox.
    /// </summary>
    public Dictionary<string, string>? Files { get; set; }

    /// <summary>Module bytes, base64, for <c>deploy</c>.</summary>
    public string? Module { get; set; }

    /// <summary><c>wasm</c> (default) or <c>aot</c>.</summary>
    public string? Mode { get; set; }

    /// <summary>How long <c>wait_result</c> may wait for the job to end.</summary>
    public int? TimeoutMs { get; set; }

    /// <summary>Build options (build_and_deploy): clang -O level 0-3, s, z; default 3.</summary>
    public string? OptLevel { get; set; }

    /// <summary>Build options: the module's shadow stack in bytes; default 2048.</summary>
    public int? StackSize { get; set; }

    /// <summary>Build options: functions to export besides those marked WASMORCH_EXPORT.</summary>
    public List<string>? Exports { get; set; }

    /// <summary>Build options: keep the module's <c>name</c> section (function names in traps); by default every custom section is stripped.</summary>
    public bool KeepNames { get; set; }

    /// <summary>Build options: run binaryen's <c>wasm-opt -Oz</c> on the linked module (the gateway must have it).</summary>
    public bool WasmOpt { get; set; }

    /// <summary>Ed25519 signature (base64) of the module bytes (deploy) or of the source text (build_and_deploy).</summary>
    public string? Signature { get; set; }

    /// <summary>Upload even when the device already holds this module with the same CRC.</summary>
    public bool Force { get; set; }

    /// <summary>For deploys: stream <c>progress</c> events while the module is uploaded.</summary>
    public bool Progress { get; set; }

    /// <summary>For <c>logs</c>: keep the request open and stream each new entry as an event.</summary>
    public bool Follow { get; set; }

    /// <summary>For <c>jobs</c>: how many records, newest first (default 20, at most 1000).</summary>
    public int? Limit { get; set; }

    /// <summary>rollback: the version to put back (default: the one before the device's current).</summary>
    public int? Version { get; set; }

    /// <summary>Who asks (user@host, as the CLI says it): recorded with each module version deployed.</summary>
    public string? By { get; set; }

    /// <summary>apply: which modules go on which devices (docs/fleet-ops.md).</summary>
    public List<DesiredModule>? Desired { get; set; }

    /// <summary>apply: say what would be done, do nothing.</summary>
    public bool DryRun { get; set; }

    /// <summary><c>apply</c>: also unload, from each device the desired state selects, the modules it does not name there (its plan's "extra").</summary>
    public bool Prune { get; set; }

    /// <summary>rollout: start, status, pause, resume or abort.</summary>
    public string? Action { get; set; }

    /// <summary><c>rollback</c>: the version to put back, by SHA-256 (as history lists it), instead of <c>version</c>.</summary>
    public string? Sha256 { get; set; }

    /// <summary>rollout start: the devices, by their labels.</summary>
    public string? Selector { get; set; }

    /// <summary>rollout start: wave sizes, each a count or a percentage of the devices, growing (1,10%,50%,100%).</summary>
    public string? Waves { get; set; }

    /// <summary>rollout start: func[:args] each device runs after the deploy; it must return 0.</summary>
    public string? Check { get; set; }

    /// <summary>rollout start: failed devices the rollout tolerates; one more stops it and rolls back.</summary>
    public int? MaxFailures { get; set; }

    /// <summary>rollout start: how long a device is watched after its check (a job that ends badly then fails it).</summary>
    public int? SoakMs { get; set; }

    /// <summary><c>events</c>: only events published to this topic.</summary>
    public string? Topic { get; set; }

    /// <summary><c>sim</c>: the simulated input pin to set (with <see cref="Level"/>).</summary>
    public int? Pin { get; set; }

    public int? Level { get; set; }

    /// <summary><c>sim</c>: the simulated temperature sensor's reading, milli-degrees Celsius.</summary>
    public int? TempMc { get; set; }
}

public static class HostOps
{
    public const string Deploy = "deploy";
    public const string BuildAndDeploy = "build_and_deploy";
    public const string Start = "start";
    public const string Stop = "stop";
    public const string Status = "status";
    public const string Devices = "devices";
    public const string Ping = "ping";
    public const string Unload = "unload";
    public const string Logs = "logs";
    public const string Scan = "scan";
    public const string Jobs = "jobs";

    /// <summary>The versions of a module id this gateway has deployed (docs/fleet-ops.md).</summary>
    public const string History = "history";

    /// <summary>Puts a device's previous version of a module back, from the gateway's own record of it.</summary>
    public const string Rollback = "rollback";

    /// <summary>Makes <c>desired</c> the gateway's desired state and converges its devices to it (<c>dry_run</c>: only the plan).</summary>
    public const string Apply = "apply";

    /// <summary>How the devices differ from the gateway's desired state (the plan apply would carry out).</summary>
    public const string Diff = "diff";

    /// <summary>A staged rollout: <c>action</c> start, status, pause, resume or abort (docs/fleet-ops.md).</summary>
    public const string Rollout = "rollout";

    /// <summary>What modules published (EVENT lines): the last entries, or with <c>follow</c> a stream.</summary>
    public const string Events = "events";

    /// <summary>Sets a simulated input of an emulated board (SIM, docs/protocol.md §6d): a pin's level, the sensor's temperature.</summary>
    public const string Sim = "sim";
}

/// <summary>One entry of a desired state: this module on every device the selector matches.</summary>
public sealed class DesiredModule
{
    public string ModuleId { get; set; } = string.Empty;

    /// <summary>A selector (<see cref="Selector"/>) of the devices the module goes on.</summary>
    public string Selector { get; set; } = string.Empty;

    /// <summary>C source to build (exactly one of source and module).</summary>
    public string? Source { get; set; }

    public string? SourceName { get; set; }

    /// <summary>The module's bytes, base64.</summary>
    public string? Module { get; set; }

    /// <summary>
    /// A module the gateway (or its fleet) already keeps, by SHA-256 (as history lists it): the
    /// third way to name the module, and how a fleet's desired state refers to its modules.
    /// </summary>
    public string? Sha256 { get; set; }

    /// <summary>wasm (default) or aot.</summary>
    public string? Mode { get; set; }

    /// <summary>func[:args] to start once the module is on a device, and again after the device restarts.</summary>
    public string? Autostart { get; set; }
}
