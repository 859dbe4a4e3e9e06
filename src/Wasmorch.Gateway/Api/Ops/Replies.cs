using System.Diagnostics;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Agent.Replies;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Api.Ops;

/// <summary>What every op handler needs to read a request and turn an agent's reply into a response.</summary>
public static class Replies
{
    public static HostResponse Failure(string code, string message, string? details = null) =>
        new() { Ok = false, Error = new HostError { Code = code, Message = message, Details = details } };

    /// <summary>An agent's refusal as a failed response with the agent's code and message.</summary>
    public static HostResponse FromAgentError(AgentError error) => Failure(error.Code, error.Message);

    /// <summary>An agent's fields as sent, for the response's <c>agent</c> map.</summary>
    public static Dictionary<string, string> Fields(IReadOnlyList<KeyValuePair<string, string>> fields) => fields.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);

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
