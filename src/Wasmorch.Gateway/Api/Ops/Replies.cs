using System.Diagnostics;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Api.Ops;

/// <summary>What every op handler needs to read a request and turn an agent's reply into a response.</summary>
public static class Replies
{
    public static HostResponse Failure(string code, string message, string? details = null) =>
        new() { Ok = false, Error = new HostError { Code = code, Message = message, Details = details } };

    /// <summary>An ERR (or LOAD_ERR) line as a failed response with the agent's code and message.</summary>
    public static HostResponse FromAgentError(AgentLine line) =>
        Failure(line[AgentKeys.Code] ?? HostErrorCodes.ProtocolError, line[AgentKeys.Msg] ?? line.ToString());

    public static Dictionary<string, string> Fields(AgentLine line) => line.Fields.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);

    /// <summary>The agent's "-" (none) as null.</summary>
    public static string? Dash(string? value) => value is null or "-" ? null : value;

    public static string RequireModuleId(HostRequest request) =>
        request.ModuleId is { } id && ModuleId.IsValid(id)
            ? id
            : throw new GatewayException(HostErrorCodes.BadRequest, "module_id must match [A-Za-z0-9_.-]{1,32}");

    /// <summary>Runs a device call and books its time as the device's part of the request.</summary>
    public static async Task<T> TimedAsync<T>(Func<Task<T>> call, Timing timing)
    {
        var clock = Stopwatch.StartNew();
        var result = await call();
        timing.DeviceMs = clock.Elapsed.TotalMilliseconds;
        return result;
    }
}
