using Wasmorch.Protocol.Modules;

namespace Wasmorch.Protocol.Agent;

/// <summary>
/// §6c: <c>EVENT module_id=&lt;id&gt; job=&lt;n&gt; uptime_ms=&lt;n&gt; topic=&lt;t&gt; data=&lt;hex|-&gt;</c>, what a module's
/// <c>publish</c> sends the host. At most 48 data bytes, so the line fits 256 bytes with every
/// field at its longest (the C core's wm_format_event writes the same bytes).
/// </summary>
public static class EventLine
{
    public static AgentLineBuilder Build(string moduleId, long job, long uptimeMs, string topic, ReadOnlySpan<byte> data) =>
        new AgentLineBuilder(AgentVerbs.Event)
            .Add(AgentKeys.ModuleId, moduleId)
            .Add(AgentKeys.Job, job)
            .Add(AgentKeys.UptimeMs, uptimeMs)
            .Add(AgentKeys.Topic, topic)
            .Add(AgentKeys.Data, data.IsEmpty ? "-" : Convert.ToHexStringLower(data));

    /// <summary>The event's bytes, or null when <c>data</c> is missing, not hex, or longer than 48 bytes.</summary>
    public static byte[]? Data(AgentLine line)
    {
        var text = line[AgentKeys.Data];
        if (text == "-")
        {
            return [];
        }
        if (text is null || text.Length % 2 != 0 || text.Length > NativeAbi.MaxEventBytes * 2 || !text.All(char.IsAsciiHexDigit))
        {
            return null;
        }
        return Convert.FromHexString(text);
    }
}
