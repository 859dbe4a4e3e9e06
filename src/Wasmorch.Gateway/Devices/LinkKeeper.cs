using Microsoft.Extensions.Logging;

namespace Wasmorch.Gateway.Devices;

/// <summary>
/// Keeps this gateway's links to its devices open (<c>[gateway] keep_links</c>): each is opened at
/// start and opened again when it drops, with a back-off while the device cannot be reached. A
/// device is then described (connected, its board and runtime labels) before anyone uses it, and a
/// board's BOOT is heard when it happens rather than on the next command. An open link costs
/// nothing: the keeper only looks at whether it is open. A link that drops soon after it opened
/// (another peer took the board over: two gateways, or two names, for one board) is opened again
/// later and later, up to every 30 s: a keeper never wrestles another for a board.
/// </summary>
public static partial class LinkKeeper
{
    /// <summary>How often an open link is looked at.</summary>
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan FirstBackOff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackOff = TimeSpan.FromSeconds(30);

    /// <summary>A link that lasted this long was a good one: the next drop is answered at once again.</summary>
    private static readonly TimeSpan StableLink = TimeSpan.FromSeconds(30);

    public static Task RunAsync(IEnumerable<DeviceSession> sessions, ILogger logger, CancellationToken ct) =>
        Task.WhenAll(sessions.Select(session => Supervision.LoopSupervisor.RunAsync($"link to {session.Name}", c => KeepAsync(session, logger, c), logger, ct)));

    private static async Task KeepAsync(DeviceSession session, ILogger logger, CancellationToken ct)
    {
        var backOff = FirstBackOff;
        var reachable = true;
        DateTimeOffset? openedAt = null;
        while (!ct.IsCancellationRequested)
        {
            if (!session.IsConnected)
            {
                if (openedAt is { } opened)
                {
                    // It dropped: soon after opening means someone else holds the board; wait longer each time.
                    backOff = DateTimeOffset.UtcNow - opened < StableLink ? Next(backOff) : FirstBackOff;
                    openedAt = null;
                    await Task.Delay(backOff, ct);
                    continue;
                }
                try
                {
                    await session.ConnectIfIdleAsync(ct);
                    reachable = true;
                }
                catch (GatewayException ex)
                {
                    if (reachable)
                    {
                        // Said once per outage: the device map and each request say the rest.
                        LogUnreachable(logger, session.Name, ex.Message, (long)backOff.TotalMilliseconds);
                    }
                    reachable = false;
                    await Task.Delay(backOff, ct);
                    backOff = Next(backOff);
                    continue;
                }
            }
            // Opened here or by a request: either way, how long it lasts decides the next wait.
            openedAt ??= session.IsConnected ? DateTimeOffset.UtcNow : null;
            await Task.Delay(CheckInterval, ct);
        }
    }

    private static TimeSpan Next(TimeSpan backOff) => TimeSpan.FromTicks(Math.Min(backOff.Ticks * 2, MaxBackOff.Ticks));

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {Device}: cannot open its link ({Reason}); trying again from {BackOffMs} ms on, with back-off")]
    private static partial void LogUnreachable(ILogger logger, string device, string reason, long backOffMs);
}
