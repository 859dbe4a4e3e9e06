using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Devices;

/// <summary>
/// A device as the host API's handlers reach it: one command at a time, answered with the agent's
/// reply line. A device on this gateway's own link is a <see cref="DeviceSession"/>; a device owned
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

    Task<AgentLine> StatusAsync(CancellationToken ct);

    /// <summary>PING where offered, else STATUS.</summary>
    Task<AgentLine> PingAsync(CancellationToken ct);

    Task<AgentLine> StopAsync(string moduleId, CancellationToken ct);

    Task<AgentLine> UnloadAsync(string moduleId, CancellationToken ct);

    /// <summary>SIM (docs/protocol.md §6d) where offered: sets an emulated board's simulated inputs; UNSUPPORTED elsewhere.</summary>
    Task<AgentLine> SimAsync(AgentLineBuilder sim, CancellationToken ct);

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

/// <summary>The reply to START, and for START_OK the way to its job's RESULT.</summary>
public sealed record StartReply(AgentLine Line, Func<long, TimeSpan, CancellationToken, Task<AgentLine>> WaitForResultAsync);

/// <param name="RecordWarning">Set when the device loaded the module but its record could not be written (the state file failed).</param>
public sealed record LoadReply(AgentLine Line, TimeSpan Transfer, string? RecordWarning = null);

/// <summary>How a held module came to be: <c>built:&lt;mode&gt;</c> or <c>file:&lt;mode&gt;</c>.</summary>
public static class HeldArtifacts
{
    public const string FileAsIs = "file:as-is";
}
