using Wasmorch.Protocol.Agent.Replies;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Operations;

/// <summary>
/// What the gateway's own services (the reconciler, the rollout engine) do to a device, typed, and
/// wherever the device is: on this gateway's link or owned by another gateway of the fleet. The
/// caller never sees the host API's request and response bags, base64, or JSON values.
/// </summary>
public interface IDeviceOperations
{
    /// <summary>STATUS: what runs and what the board holds.</summary>
    Task<DeviceResult<StatusReport>> StatusAsync(string device, CancellationToken ct);

    /// <summary>Puts module bytes on the device through every check of a deploy (signature, limits, skip if held).</summary>
    Task<DeviceResult<ModulePlaced>> DeployAsync(ModuleDeploy deploy, CancellationToken ct);

    /// <summary>Starts a function; with <see cref="JobCall.Wait"/> also its RESULT within the timeout.</summary>
    Task<DeviceResult<JobRun>> RunAsync(JobCall job, CancellationToken ct);

    Task<DeviceResult<ModuleRemoved>> UnloadAsync(string device, string moduleId, CancellationToken ct);

    /// <summary>Puts back the version <paramref name="sha256"/> that the device's gateway deployed before (from its own record).</summary>
    Task<DeviceResult<ModulePlaced>> RollbackAsync(string device, string moduleId, string sha256, string by, CancellationToken ct);

    /// <summary>The device's newest jobs, as its gateway recorded them.</summary>
    Task<DeviceResult<IReadOnlyList<JobRecord>>> JobsAsync(string device, int limit, CancellationToken ct);

    /// <summary>The versions of <paramref name="moduleId"/> the device's gateway deployed to it.</summary>
    Task<DeviceResult<IReadOnlyList<ModuleVersion>>> HistoryAsync(string device, string moduleId, CancellationToken ct);
}

/// <summary>An operation's answer, or why there is none (the host API's error: a code and a message for people).</summary>
public readonly record struct DeviceResult<T>(T? Value, HostError? Error)
{
    public bool Ok => Error is null;

    public static implicit operator DeviceResult<T>(T value) => new(value, null);

    public static implicit operator DeviceResult<T>(HostError error) => new(default, error);

    /// <summary>The answer; only after <see cref="Ok"/> was checked.</summary>
    public T Answer => Ok ? Value! : throw new InvalidOperationException($"the operation failed: {Error!.Code}: {Error.Message}");
}

/// <summary>Module bytes for a device.</summary>
/// <param name="Mode">wasm, aot, or null (as given).</param>
/// <param name="By">Who deploys, for the version record (a rollout, the reconciler).</param>
/// <param name="Signature">An operator's signature over the deploy statement, when the device requires signed modules.</param>
/// <param name="SignedSelector">The selector the signature covers (a rollout's statement names its selector, not one device).</param>
public sealed record ModuleDeploy(string Device, string ModuleId, ReadOnlyMemory<byte> Bytes, string? Mode, string By, string? Signature = null, string? SignedSelector = null);

/// <summary>What a deploy or rollback left on the device.</summary>
/// <param name="Version">The module id's version in the gateway's record, when it keeps one.</param>
public sealed record ModulePlaced(string ModuleId, string? Crc32, string? Sha256, int? Version, bool UploadSkipped);

public sealed record ModuleRemoved(string ModuleId);

/// <summary>A function to call.</summary>
/// <param name="Wait">Wait for the job's RESULT (up to <paramref name="Timeout"/>, the gateway's default when null).</param>
public sealed record JobCall(string Device, string ModuleId, string Func, string? Args, bool Wait, TimeSpan? Timeout = null);

/// <summary>A started job, and its RESULT when it was waited for.</summary>
public sealed record JobRun(long Job, JobResult? Result);
