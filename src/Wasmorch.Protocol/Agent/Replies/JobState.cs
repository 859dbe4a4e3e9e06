namespace Wasmorch.Protocol.Agent.Replies;

/// <summary>
/// Where a job is (docs/protocol.md §5): running, or how it ended. <c>RESULT status=</c> says the
/// last three; a gateway adds what it saw itself (the link lost, the board reset).
/// </summary>
public enum JobState
{
    Running,
    Ok,
    Trap,
    Stopped,

    /// <summary>The link to the device was lost while the job ran: its end is unknown.</summary>
    Lost,

    /// <summary>The board restarted while the job ran.</summary>
    DeviceReset,

    /// <summary>A status this version does not know (a newer agent's): kept as sent in <see cref="JobResult.StatusText"/>.</summary>
    Other,
}

/// <summary>The wire names of <see cref="JobState"/>: one place that knows them.</summary>
public static class JobStates
{
    public static string Name(JobState state) => state switch
    {
        JobState.Running => "RUNNING",
        JobState.Ok => JobStatus.Ok,
        JobState.Trap => JobStatus.Trap,
        JobState.Stopped => JobStatus.Stopped,
        JobState.Lost => "LOST",
        JobState.DeviceReset => "DEVICE_RESET",
        _ => "OTHER",
    };

    public static JobState Parse(string? text) => text switch
    {
        "RUNNING" => JobState.Running,
        JobStatus.Ok => JobState.Ok,
        JobStatus.Trap => JobState.Trap,
        JobStatus.Stopped => JobState.Stopped,
        "LOST" => JobState.Lost,
        "DEVICE_RESET" => JobState.DeviceReset,
        _ => JobState.Other,
    };

    /// <summary>Ended badly: what a rollout's soak or a watch counts as a failure.</summary>
    public static bool IsFailure(JobState state) => state is not (JobState.Running or JobState.Ok or JobState.Stopped);
}
