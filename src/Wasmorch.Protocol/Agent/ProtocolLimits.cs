namespace Wasmorch.Protocol.Agent;

/// <summary>Limits fixed by the agent protocol (docs/protocol.md).</summary>
public static class ProtocolLimits
{
    /// <summary>A line is at most this many bytes, terminator included.</summary>
    public const int MaxLineLength = 256;

    public const int MaxModuleIdLength = 32;

    /// <summary>
    /// The longest <c>modules=</c> list of STATUS: what is left of a line once the other mandatory
    /// keys take their longest values (module id 32, function name 64, job and uptime 10 digits).
    /// </summary>
    public const int MaxModuleListLength = 80;

    /// <summary>How long an agent waits for the next payload byte before dropping a LOAD.</summary>
    public static readonly TimeSpan DefaultLoadTimeout = TimeSpan.FromSeconds(2);
}
