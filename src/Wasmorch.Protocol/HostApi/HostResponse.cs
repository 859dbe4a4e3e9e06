using System.Text.Json;

namespace Wasmorch.Protocol.HostApi;

/// <summary>The gateway's answer to one <see cref="HostRequest"/>.</summary>
public sealed class HostResponse
{
    public long Id { get; set; }

    public bool Ok { get; set; }

    public string? Device { get; set; }

    /// <summary>In a fleet: the gateway that owns the device and served the request (docs/fleet.md).</summary>
    public string? Gateway { get; set; }

    public string? ModuleId { get; set; }

    public string? Func { get; set; }

    public long? Job { get; set; }

    /// <summary>Job status (OK, TRAP, STOPPED, RUNNING), STOP status (PENDING, IDLE) or agent state.</summary>
    public string? Status { get; set; }

    /// <summary>The function's result in its wasm type, as a JSON number (or string for nan/inf).</summary>
    public JsonElement? Value { get; set; }

    public string? ValueType { get; set; }

    public long? ElapsedUs { get; set; }

    public string? Message { get; set; }

    public long? Size { get; set; }

    public string? Crc32 { get; set; }

    /// <summary>The artifact came from the gateway's cache: nothing was compiled.</summary>
    public bool? CacheHit { get; set; }

    /// <summary>The device already held this module (same id and CRC): nothing was uploaded.</summary>
    public bool? UploadSkipped { get; set; }

    /// <summary>wasm, or aot with its target (e.g. aot:thumbv7em).</summary>
    public string? Artifact { get; set; }

    /// <summary>The content's Ed25519 signature was verified against a trusted key.</summary>
    public bool? SignatureVerified { get; set; }

    /// <summary>SHA-256 of the uploaded artifact.</summary>
    public string? Sha256 { get; set; }

    /// <summary>Every field of the agent's reply, for STATUS and for what a CLI wants to show.</summary>
    public Dictionary<string, string>? Agent { get; set; }

    public List<DeviceInfo>? Devices { get; set; }

    /// <summary>Serial ports found on the gateway's machine (<c>scan</c>).</summary>
    public List<SerialPortInfo>? Ports { get; set; }

    /// <summary>What the agent offered in HELLO_OK (<c>baseline=true</c> for a seed-baseline agent).</summary>
    public Dictionary<string, string>? Capabilities { get; set; }

    /// <summary>Set on the intermediate lines of a streaming request (<c>log</c>); absent on final responses.</summary>
    public string? Event { get; set; }

    public LogEntry? Log { get; set; }

    /// <summary>On <c>event: "progress"</c> lines of a deploy: bytes of the module sent so far.</summary>
    public UploadProgress? Progress { get; set; }

    public List<LogEntry>? Logs { get; set; }

    /// <summary><c>events</c>: what modules published, oldest first.</summary>
    public List<ModuleEvent>? Events { get; set; }

    /// <summary>A followed <c>events</c> stream's entry (with <c>event: "published"</c>).</summary>
    public ModuleEvent? Published { get; set; }

    /// <summary>The job history of <c>jobs</c>, newest first.</summary>
    public List<JobRecord>? Jobs { get; set; }

    /// <summary>deploy, build_and_deploy, rollback: the version of the module id this deploy is (history numbers them 1, 2, …).</summary>
    public int? Version { get; set; }

    /// <summary>history: the versions of a module id, newest first.</summary>
    public List<ModuleVersion>? Versions { get; set; }

    /// <summary>apply, diff: what each device needs (and, for apply, what came of it).</summary>
    public List<PlanStep>? Plan { get; set; }

    /// <summary>rollout: the rollout as it stands.</summary>
    public RolloutInfo? Rollout { get; set; }

    public HostError? Error { get; set; }

    public Timing? Timing { get; set; }
}

public sealed class HostError
{
    public string Code { get; set; } = string.Empty;

    public string Message { get; set; } = string.Empty;

    /// <summary>Compiler diagnostics and the like, verbatim.</summary>
    public string? Details { get; set; }
}

/// <summary>Where the time of one request went, as the gateway measured it.</summary>
public sealed class Timing
{
    public double GatewayMs { get; set; }

    public double? CompileMs { get; set; }

    /// <summary>Payload on the link until the agent's verdict, less <see cref="VerifyMs"/> when the agent reports it.</summary>
    public double? TransferMs { get; set; }

    /// <summary>Time the agent spent checking and compiling the module (LOAD_OK verify_us).</summary>
    public double? VerifyMs { get; set; }

    public double? DeviceMs { get; set; }
}

public sealed class UploadProgress
{
    public long Sent { get; set; }

    public long Total { get; set; }
}

/// <summary>A LOG line from a module, stamped by the gateway.</summary>
public sealed class LogEntry
{
    /// <summary>When the gateway received it, ISO 8601 UTC.</summary>
    public string Time { get; set; } = string.Empty;

    public string Device { get; set; } = string.Empty;

    public string? ModuleId { get; set; }

    public long? Job { get; set; }

    public long? UptimeMs { get; set; }

    public string Message { get; set; } = string.Empty;

    /// <summary>In a fleet: the gateway whose device sent it.</summary>
    public string? Gateway { get; set; }
}

/// <summary>One EVENT a module published (docs/protocol.md §6c), as the gateway received it.</summary>
public sealed class ModuleEvent
{
    /// <summary>When the gateway received it (ISO 8601, UTC).</summary>
    public string Time { get; set; } = string.Empty;

    public string Device { get; set; } = string.Empty;

    public string ModuleId { get; set; } = string.Empty;

    public long Job { get; set; }

    /// <summary>The device's clock when the module published it.</summary>
    public long UptimeMs { get; set; }

    public string Topic { get; set; } = string.Empty;

    /// <summary>The bytes, lower-case hex (empty for none).</summary>
    public string Data { get; set; } = string.Empty;

    /// <summary>The bytes as text, when every one is printable ASCII; else null.</summary>
    public string? Text { get; set; }

    public string? Gateway { get; set; }
}

public sealed class SerialPortInfo
{
    public string Path { get; set; } = string.Empty;

    public string? UsbId { get; set; }

    public string? Serial { get; set; }

    public string? Manufacturer { get; set; }

    public string? Product { get; set; }

    public string? ById { get; set; }

    /// <summary>An endpoint that keeps naming this board when Linux renumbers its tty.</summary>
    public string Endpoint { get; set; } = string.Empty;
}

public sealed class DeviceInfo
{
    public string Name { get; set; } = string.Empty;

    public string Endpoint { get; set; } = string.Empty;

    public bool Connected { get; set; }

    /// <summary>In a fleet: the gateway whose link the device is on.</summary>
    public string? Gateway { get; set; }

    /// <summary>In a fleet: that gateway does not answer (stopped, crashed, cut off); the device is out of reach until it returns.</summary>
    public bool? GatewayLost { get; set; }

    /// <summary>What the gateway last knew this device to hold (from its own deploys and the device's STATUS).</summary>
    public List<HeldModule>? Modules { get; set; }

    /// <summary>
    /// Its labels, for selectors (<see cref="Selector"/>): those of the device map, and
    /// <c>board</c>, <c>runtime</c>, <c>runtime_version</c> from the board's HELLO_OK once it has spoken.
    /// </summary>
    public Dictionary<string, string>? Labels { get; set; }

    /// <summary>The agent it last said HELLO as, and when (the state file's record; null without one).</summary>
    public string? Agent { get; set; }

    public string? LastSeen { get; set; }
}

/// <summary>A module a device holds, as recorded by the gateway.</summary>
public sealed class HeldModule
{
    public string ModuleId { get; set; } = string.Empty;

    public string Crc32 { get; set; } = string.Empty;

    /// <summary>Known when this gateway deployed it; null when only the device's STATUS reported it.</summary>
    public string? Sha256 { get; set; }

    public long? Size { get; set; }

    public string? Artifact { get; set; }

    /// <summary>UTC, ISO 8601.</summary>
    public string? DeployedAt { get; set; }

    /// <summary>The functions it exports, read from the wasm this gateway sent (null for an AOT module or one only STATUS reported).</summary>
    public List<string>? Exports { get; set; }
}

/// <summary>One job as the gateway recorded it.</summary>
public sealed class JobRecord
{
    public string Device { get; set; } = string.Empty;

    public long Job { get; set; }

    public string ModuleId { get; set; } = string.Empty;

    public string Func { get; set; } = string.Empty;

    public string? Args { get; set; }

    /// <summary>RUNNING, a RESULT status (OK, TRAP, STOPPED, …), DEVICE_RESET, or LOST.</summary>
    public string Status { get; set; } = string.Empty;

    public string? Value { get; set; }

    public string? Message { get; set; }

    public long? ElapsedUs { get; set; }

    public string StartedAt { get; set; } = string.Empty;

    public string? EndedAt { get; set; }

    /// <summary>In a fleet: the gateway whose device ran the job.</summary>
    public string? Gateway { get; set; }
}

/// <summary>One version of a module id: the bytes a deploy sent, as this gateway recorded them.</summary>
public sealed class ModuleVersion
{
    public string ModuleId { get; set; } = string.Empty;

    public int Version { get; set; }

    public string Sha256 { get; set; } = string.Empty;

    public string Crc32 { get; set; } = string.Empty;

    public long Size { get; set; }

    /// <summary>How it came to be: built:wasm, built:aot, file:as-is, …</summary>
    public string? Artifact { get; set; }

    /// <summary>The SHA-256 of the C source it was built from, when it was.</summary>
    public string? SourceSha256 { get; set; }

    /// <summary>Whether a trusted key signed it when it was first deployed.</summary>
    public bool SignatureVerified { get; set; }

    public string? By { get; set; }

    public string CreatedAt { get; set; } = string.Empty;

    /// <summary>The devices of this gateway that hold it now.</summary>
    public List<string>? Devices { get; set; }
}

/// <summary>One device and module of a plan: what it needs to match the desired state.</summary>
public sealed class PlanStep
{
    public string Device { get; set; } = string.Empty;

    public string ModuleId { get; set; } = string.Empty;

    /// <summary>missing (not on the device), different (another version there), same, or extra (on the device, not desired).</summary>
    public string State { get; set; } = string.Empty;

    /// <summary>The version on the device now (when this gateway knows it), and the one desired.</summary>
    public int? HeldVersion { get; set; }

    public int? DesiredVersion { get; set; }

    /// <summary>apply: deployed, started, or failed (with <see cref="Error"/>); null for a dry run or nothing to do.</summary>
    public string? Outcome { get; set; }

    public HostError? Error { get; set; }
}

/// <summary>A staged rollout (docs/fleet-ops.md) and where each of its devices is.</summary>
public sealed class RolloutInfo
{
    public long Id { get; set; }

    public string ModuleId { get; set; } = string.Empty;

    public string Selector { get; set; } = string.Empty;

    public int? Version { get; set; }

    /// <summary>running, paused, done, rolled-back (it failed), aborted.</summary>
    public string State { get; set; } = string.Empty;

    /// <summary>The wave under way (1-based), of <see cref="Waves"/>.</summary>
    public int Wave { get; set; }

    public int Waves { get; set; }

    public int Failures { get; set; }

    public int MaxFailures { get; set; }

    public string? Reason { get; set; }

    /// <summary>When it was started, and when it came to its end (done, rolled-back, aborted): UTC, ISO 8601; null while it runs.</summary>
    public string? StartedAt { get; set; }

    public string? EndedAt { get; set; }

    public List<RolloutDevice> Devices { get; set; } = [];
}

public sealed class RolloutDevice
{
    public string Device { get; set; } = string.Empty;

    public int Wave { get; set; }

    /// <summary>pending, deploying, ok, failed, rolled-back.</summary>
    public string Outcome { get; set; } = string.Empty;

    public string? Message { get; set; }

    /// <summary>The SHA-256 of the version it had before (null: it did not hold the module).</summary>
    public string? PreviousSha256 { get; set; }

    /// <summary>Why it failed, kept once it is rolled back; null when it did not fail.</summary>
    public RolloutFailure? Failure { get; set; }
}

/// <summary>The cause of a device's failure in a rollout, in fields a script can test (docs/fleet-ops.md).</summary>
public sealed class RolloutFailure
{
    /// <summary>
    /// What failed: <c>status</c> (its status could not be read), <c>no-copy</c> (it holds a version no
    /// gateway kept), <c>deploy</c>, <c>check-trap</c>, <c>check-value</c> (the check returned another
    /// value than 0), <c>check-timeout</c>, <c>check-error</c>, <c>soak</c> (a job ended badly meanwhile).
    /// </summary>
    public string Kind { get; set; } = string.Empty;

    /// <summary>The error code or the job's status: TRAP, TIMEOUT, DEVICE_UNREACHABLE, NO_FUNC...</summary>
    public string? Code { get; set; }

    /// <summary>What the check returned, for check-value.</summary>
    public string? Value { get; set; }

    /// <summary>The trap's text, the error's message.</summary>
    public string? Detail { get; set; }

    /// <summary>The job that failed: the check, or the job that ended badly during the soak.</summary>
    public long? Job { get; set; }
}
