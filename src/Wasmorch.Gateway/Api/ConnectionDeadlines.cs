namespace Wasmorch.Gateway.Api;

/// <summary>
/// How long a host connection may stay silent: only while the host owes the gateway something.
/// A request in flight (a long wait_result, a log stream) keeps a silent connection open as long as
/// it runs; otherwise an idle connection ends after <see cref="Idle"/>, and a request line must be
/// complete within <see cref="PartialRequest"/> of its first byte, however its bytes trickle in
/// (a slowloris sending a byte now and then cannot hold a slot).
/// </summary>
/// <param name="Write">How long one answer may take to write before the host is taken for one that stopped reading.</param>
public sealed record ConnectionDeadlines(TimeSpan Idle, TimeSpan PartialRequest, TimeSpan Write)
{
    public ConnectionDeadlines(TimeSpan idle, TimeSpan partialRequest)
        : this(idle, partialRequest, TimeSpan.FromSeconds(30))
    {
    }

    /// <summary>The deadline of the next read, or null for none; <paramref name="partialFor"/> is how long the unfinished line has been arriving.</summary>
    public TimeSpan? ForNextRead(bool requestsRunning, TimeSpan? partialFor) =>
        requestsRunning ? null
        : partialFor is { } elapsed ? (PartialRequest > elapsed ? PartialRequest - elapsed : TimeSpan.Zero)
        : Idle;

    public static string Describe(bool partialLine) =>
        partialLine ? "request line left unfinished past the deadline" : "idle past the deadline";
}
