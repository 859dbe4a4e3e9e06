using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Agent.Replies;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Devices;

/// <summary>
/// A device as the host API's handlers reach it: one command at a time, answered with the agent's
/// reply, typed (parsed once, in Wasmorch.Protocol): the answer or the agent's refusal. A device on this gateway's own link is a <see cref="DeviceSession"/>; a device owned
/// by another gateway of a fleet implements the same operations over that gateway.
/// </summary>
public interface IDevice
{
    string Name { get; }

    bool IsConnected { get; }

    /// <summary>What the agent offered on the current link (null before the first connection).</summary>
    AgentCapabilities? Capabilities { get; }

    /// <summary>What the agent offers, connecting (and negotiating) first if need be.</summary>
    Task<AgentCapabilities> CapabilitiesAsync(CancellationToken ct);

    Task<AgentReply<StatusReport>> StatusAsync(CancellationToken ct);

    /// <summary>PING where offered, else STATUS.</summary>
    Task<AgentReply<PingReport>> PingAsync(CancellationToken ct);

    Task<AgentReply<StopReport>> StopAsync(string moduleId, CancellationToken ct);

    /// <summary>UNLOAD where offered: null once the module is gone, else the agent's refusal.</summary>
    Task<AgentError?> UnloadAsync(string moduleId, CancellationToken ct);

    /// <summary>SIM (docs/protocol.md §6d) where offered: sets an emulated board's simulated inputs; UNSUPPORTED elsewhere.</summary>
    Task<AgentReply<SimReport>> SimAsync(SimInputs inputs, CancellationToken ct);

    /// <summary>START; the reply is START_OK (whose RESULT the reply can await), an immediate RESULT, or ERR.</summary>
    Task<StartReply> StartAsync(string moduleId, string func, string? args, CancellationToken ct);

    /// <summary>
    /// The LOAD handshake and payload; on LOAD_OK the module is recorded (<see cref="IDeviceObserver.ModuleLoadedAsync"/>)
    /// before this returns. A LOAD_OK is returned only when it names these bytes' CRC and size (else PROTOCOL_ERROR).
    /// </summary>
    Task<LoadReply> LoadAsync(string moduleId, ReadOnlyMemory<byte> bytes, CancellationToken ct, IProgress<long>? progress = null, string artifact = HeldArtifacts.FileAsIs);

    /// <summary>The device was found to hold this module already (its STATUS said so): observers learn what the device cannot tell (SHA-256, kind).</summary>
    void ReportHeld(HeldModule held);
}

/// <summary>The reply to START: the job it started (START_OK) or the agent's refusal, and the way to the job's RESULT.</summary>
public sealed record StartReply(long? Job, AgentError? Refusal, Func<long, TimeSpan, CancellationToken, Task<JobResult>> WaitForResultAsync);

/// <param name="RecordWarning">Set when the device loaded the module but its record could not be written (the state file failed).</param>
public sealed record LoadReply(AgentReply<LoadReport> Reply, TimeSpan Transfer, string? RecordWarning = null);

/// <summary>How a held module came to be: <c>built:&lt;mode&gt;</c> or <c>file:&lt;mode&gt;</c>.</summary>
public static class HeldArtifacts
{
    public const string FileAsIs = "file:as-is";
}
