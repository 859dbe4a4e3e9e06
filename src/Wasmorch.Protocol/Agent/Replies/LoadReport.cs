namespace Wasmorch.Protocol.Agent.Replies;

/// <summary>LOAD_OK (docs/protocol.md §4, §6b): the module the board now holds.</summary>
public sealed record LoadReport(string Crc32, long? Size, long? VerifyUs)
{
    public static AgentReply<LoadReport> Parse(AgentLine line) =>
        line.Verb == AgentVerbs.LoadOk && line[AgentKeys.Crc32] is { } crc
            ? new LoadReport(crc, line.TryGetInt64(AgentKeys.Size, out var size) ? size : null, line.TryGetInt64(AgentKeys.VerifyUs, out var verify) ? verify : null)
            : AgentError.From(line);
}
