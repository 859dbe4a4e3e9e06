using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Api.Ops;

/// <summary>One request being carried out: the request, its timing breakdown, where its intermediate events go, and its cancellation.</summary>
public sealed record OpContext(HostRequest Request, Timing Timing, Func<HostResponse, Task>? Events, CancellationToken Ct)
{
    /// <summary>Another gateway of the fleet forwarded it: answer for this gateway alone.</summary>
    public bool Forwarded { get; init; }
}

/// <summary>Carries out one op of the host API (docs/protocol.md §9). A failure is a <see cref="GatewayException"/> or a failed response.</summary>
public interface IOpHandler
{
    /// <summary>The op name it answers (<see cref="HostOps"/>).</summary>
    string Op { get; }

    Task<HostResponse> HandleAsync(OpContext op);

    /// <summary>
    /// In a fleet: the handler answers for a device of another gateway itself (from the fleet's
    /// shared record) instead of having the request forwarded to the device's gateway.
    /// </summary>
    bool AnswersForFleet => false;
}
