using Wasmorch.Protocol.Agent;

namespace Wasmorch.Emulator;

/// <summary>
/// Where a board's asynchronous lines (RESULT, LOG) go: the link connection of the emulator's own
/// COMM loop, or another agent core driving the board (the firmware's C core on the host, in the tests).
/// </summary>
public interface IBoardOutput
{
    /// <summary>The peer sent HELLO on this link: it understands extension lines such as LOG.</summary>
    bool ExtensionsEnabled { get; }

    /// <summary>Sends a line that must not be lost (RESULT).</summary>
    void TryEnqueue(AgentLineBuilder line);

    /// <summary>Sends a line that may be dropped when the link is congested (LOG); false when dropped.</summary>
    bool TryEnqueueOptional(AgentLineBuilder line);
}
