namespace Wasmorch.Protocol.Agent.Replies;

/// <summary>An agent's refusal: <c>ERR</c>, <c>LOAD_ERR</c>, or a <c>RESULT</c> that refuses a START (docs/protocol.md, "Error codes").</summary>
public sealed record AgentError(string Code, string Message)
{
    /// <summary>The refusal an error line carries; a line without <c>code=</c> is a protocol error named by the line itself.</summary>
    public static AgentError From(AgentLine line) =>
        new(line[AgentKeys.Code] ?? line[AgentKeys.Status] ?? "PROTOCOL_ERROR", line[AgentKeys.Msg] ?? line.ToString());
}

/// <summary>A typed agent reply: the answer, or the agent's refusal (never both).</summary>
public readonly record struct AgentReply<T>(T? Value, AgentError? Error) where T : class
{
    public bool Ok => Error is null;

    public static implicit operator AgentReply<T>(T value) => new(value, null);

    public static implicit operator AgentReply<T>(AgentError error) => new(null, error);

    /// <summary>The answer; only after <see cref="Ok"/> was checked.</summary>
    public T Answer => Value ?? throw new InvalidOperationException($"the agent refused: {Error!.Code}: {Error.Message}");
}
