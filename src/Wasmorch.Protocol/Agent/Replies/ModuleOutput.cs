namespace Wasmorch.Protocol.Agent.Replies;

/// <summary>A module's <c>LOG</c> line (docs/protocol.md §5).</summary>
public sealed record LogReport(string? ModuleId, long? Job, long? UptimeMs, string Message)
{
    public static LogReport Parse(AgentLine line) =>
        new(line[AgentKeys.ModuleId], line.TryGetInt64(AgentKeys.Job, out var job) ? job : null,
            line.TryGetInt64(AgentKeys.UptimeMs, out var uptime) ? uptime : null, line[AgentKeys.Msg] ?? string.Empty);
}

/// <summary>What a module published: an <c>EVENT</c> line (docs/protocol.md §6c).</summary>
public sealed record EventReport(string ModuleId, long Job, long UptimeMs, string Topic, byte[] Data)
{
    /// <summary>The event, or null for a line that is not a well-formed EVENT (every field present, data hex of at most 48 bytes).</summary>
    public static EventReport? Parse(AgentLine line) =>
        EventLine.Data(line) is { } data && line[AgentKeys.ModuleId] is { } moduleId && line[AgentKeys.Topic] is { } topic
            && line.TryGetInt64(AgentKeys.Job, out var job) && line.TryGetInt64(AgentKeys.UptimeMs, out var uptime)
            ? new EventReport(moduleId, job, uptime, topic, data)
            : null;
}

/// <summary>PONG, or the STATUS a baseline agent answers a ping with: the fields as sent.</summary>
public sealed record PingReport(IReadOnlyList<KeyValuePair<string, string>> Fields)
{
    public static AgentReply<PingReport> Parse(AgentLine line) =>
        line.Verb is AgentVerbs.Pong or AgentVerbs.Status ? new PingReport(line.Fields) : AgentError.From(line);
}

/// <summary>SIM_OK (docs/protocol.md §6d): the simulated inputs as they now are.</summary>
public sealed record SimReport(IReadOnlyList<KeyValuePair<string, string>> Fields)
{
    public static AgentReply<SimReport> Parse(AgentLine line) =>
        line.Verb == AgentVerbs.SimOk ? new SimReport(line.Fields) : AgentError.From(line);
}

/// <summary>What to set on a board's simulated inputs (SIM, docs/protocol.md §6d): a pin's level, the sensor's temperature.</summary>
public sealed record SimInputs(int? Pin, int? Level, int? TempMc)
{
    public AgentLineBuilder ToCommand()
    {
        var sim = new AgentLineBuilder(AgentVerbs.Sim);
        if (Pin is { } pin)
        {
            sim.Add(AgentKeys.Pin, pin).Add(AgentKeys.Level, Level ?? 0);
        }
        if (TempMc is { } temp)
        {
            sim.Add(AgentKeys.TempMc, temp);
        }
        return sim;
    }
}
