namespace Wasmorch.Protocol.Agent.Replies;

/// <summary>A job's <c>RESULT</c> line (docs/protocol.md §5), parsed once.</summary>
public sealed record JobResult
{
    public long? Job { get; init; }

    public string? ModuleId { get; init; }

    public string? Func { get; init; }

    public required JobState State { get; init; }

    /// <summary><c>status=</c> as sent (what <see cref="JobState.Other"/> stands for).</summary>
    public required string StatusText { get; init; }

    public string? Message { get; init; }

    public ResultValue? Value { get; init; }

    public long? ElapsedUs { get; init; }

    public static JobResult Parse(AgentLine result)
    {
        var status = result[AgentKeys.Status] ?? "?";
        return new JobResult
        {
            Job = result.TryGetInt64(AgentKeys.Job, out var job) ? job : null,
            ModuleId = result[AgentKeys.ModuleId],
            Func = result[AgentKeys.Func],
            State = JobStates.Parse(status),
            StatusText = status,
            Message = result[AgentKeys.Msg],
            Value = result[AgentKeys.Value] is { } value ? new ResultValue(value, result[AgentKeys.Type]) : null,
            ElapsedUs = result.TryGetInt64(AgentKeys.ElapsedUs, out var elapsed) ? elapsed : null,
        };
    }
}
