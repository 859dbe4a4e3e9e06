namespace Wasmorch.Protocol.Agent.Replies;

/// <summary>STOP_OK (docs/protocol.md §5): the job is stopping (its RESULT follows) or nothing ran.</summary>
public sealed record StopReport(string Status, long? Job)
{
    /// <summary>A job was running and its RESULT status=STOPPED follows.</summary>
    public bool Pending => Status == "PENDING";

    public static AgentReply<StopReport> Parse(AgentLine line) =>
        line.Verb == AgentVerbs.StopOk
            ? new StopReport(line[AgentKeys.Status] ?? "?", line.TryGetInt64(AgentKeys.Job, out var job) ? job : null)
            : AgentError.From(line);
}
