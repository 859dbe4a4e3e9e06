using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli.Client;

/// <summary>
/// NO_MODULE from a board (start, stop or unload of a module it does not hold): the answer gets
/// the modules the board does hold, from its status, so that a mistyped module id is seen at once
/// (in <c>error.details</c>: "nucleo holds: math_ops, toggle_forever"; "nucleo holds no module").
/// </summary>
public static class HeldModules
{
    public static bool Apply(HostRequest request, HostResponse response) =>
        !response.Ok && response.Error?.Code == AgentErrorCodes.NoModule && request.Device is { Length: > 0 }
        && request.Op is HostOps.Start or HostOps.Stop or HostOps.Unload;

    public static async Task AddAsync(HostRequest request, HostResponse response, Func<HostRequest, Task<(HostResponse Response, TimeSpan Latency)>> send)
    {
        var (status, _) = await send(new HostRequest { Op = HostOps.Status, Device = request.Device });
        if (!status.Ok || status.Agent?.GetValueOrDefault(AgentKeys.Modules) is not { } modules)
        {
            // The board's status out of reach now: the refusal says enough on its own.
            return;
        }
        var held = modules == "-" ? [] : modules.Split(',', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray();
        var line = held.Length == 0 ? $"{request.Device} holds no module" : $"{request.Device} holds: {string.Join(", ", held)}";
        response.Error!.Details = string.IsNullOrWhiteSpace(response.Error.Details) ? line : $"{response.Error.Details.TrimEnd()}\n{line}";
    }
}
