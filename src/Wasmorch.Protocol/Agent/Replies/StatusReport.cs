namespace Wasmorch.Protocol.Agent.Replies;

/// <summary>
/// A STATUS reply (docs/protocol.md §3), parsed once: what runs, what the board holds, and every
/// field as sent (for the host API's <c>agent</c> map and fields this version does not know).
/// </summary>
public sealed class StatusReport
{
    private IReadOnlyDictionary<string, string>? _moduleCrcs;

    /// <summary><c>state=</c>: IDLE or RUNNING (a newer agent may say more; kept as sent).</summary>
    public required string State { get; init; }

    public string? ModuleId { get; init; }

    public string? Func { get; init; }

    public long? Job { get; init; }

    public long? UptimeMs { get; init; }

    /// <summary><c>modules=</c> as sent (a comma list, "-" for none); null when the agent does not say.</summary>
    public string? ModulesText { get; init; }

    /// <summary><c>module_crcs=</c> as sent; null when the agent does not say (a seed-baseline agent).</summary>
    public string? ModuleCrcsText { get; init; }

    /// <summary>Module id → CRC-32 (lower-case hex) of what the board holds; parsed on first use (STATUS is polled).</summary>
    public IReadOnlyDictionary<string, string> ModuleCrcs => _moduleCrcs ??= Agent.ModuleCrcs.Parse(ModuleCrcsText);

    public required IReadOnlyList<KeyValuePair<string, string>> Fields { get; init; }

    /// <summary>The agent's "-" (none) as null.</summary>
    private static string? Dash(string? value) => value is null or "-" ? null : value;

    public static AgentReply<StatusReport> Parse(AgentLine line)
    {
        if (line.Verb != AgentVerbs.Status)
        {
            return AgentError.From(line);
        }
        return new StatusReport
        {
            State = line[AgentKeys.State] ?? "?",
            ModuleId = Dash(line[AgentKeys.Module]),
            Func = Dash(line[AgentKeys.Func]),
            Job = line.TryGetInt64(AgentKeys.Job, out var job) ? job : null,
            UptimeMs = line.TryGetInt64(AgentKeys.UptimeMs, out var uptime) ? uptime : null,
            ModulesText = line[AgentKeys.Modules],
            ModuleCrcsText = line[AgentKeys.ModuleCrcs],
            Fields = line.Fields,
        };
    }
}
