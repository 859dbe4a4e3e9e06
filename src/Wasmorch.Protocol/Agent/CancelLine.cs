namespace Wasmorch.Protocol.Agent;

/// <summary>
/// The line a peer sends first on a link it opens (docs/protocol.md §1): CAN (0x18) then LF.
/// Bytes a previous peer left without their LF become one line with it; that line holds a byte
/// that is not printable ASCII, so it never parses and its command never runs. Every agent
/// answers it with exactly one ERR (BAD_COMMAND, or LINE_TOO_LONG for a long leftover), after
/// which the next reply on the link is the answer to the peer's own next command.
/// </summary>
public static class CancelLine
{
    public const byte Cancel = 0x18;

    public static ReadOnlyMemory<byte> Bytes { get; } = new byte[] { Cancel, (byte)'\n' };

    /// <summary>The cancel line's answer; LOAD_ERR means the agent was inside an abandoned payload, which it has now given up.</summary>
    public static bool IsAnswer(AgentLine line) => line.Verb is AgentVerbs.Err or AgentVerbs.LoadErr;
}
