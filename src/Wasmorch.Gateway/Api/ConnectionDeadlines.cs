namespace Wasmorch.Gateway.Api;

/// <summary>
/// How long a host connection may stay silent: only while the host owes the gateway something.
/// A request in flight (a long wait_result, a log stream) keeps a silent connection open as long as
/// it runs; otherwise an idle connection ends after <see cref="Idle"/>, and one that left a request
/// line half-sent after <see cref="PartialRequest"/> (a slowloris cannot hold a slot).
/// </summary>
public sealed record ConnectionDeadlines(TimeSpan Idle, TimeSpan PartialRequest)
{
    /// <summary>The deadline of the next read, or null for none.</summary>
    public TimeSpan? ForNextRead(bool requestsRunning, bool partialLine) =>
        requestsRunning ? null : partialLine ? PartialRequest : Idle;

    public static string Describe(bool partialLine) =>
        partialLine ? "request line left unfinished past the deadline" : "idle past the deadline";
}
