using Microsoft.Extensions.Logging;

namespace Wasmorch.Gateway.Devices;

/// <summary>
/// Opens this gateway's links to its devices at start (<c>[gateway] keep_links</c>), trying again
/// with a back-off while a device cannot be reached (a board powered on after its gateway): a
/// device is described (connected, its board and runtime labels) before anyone uses it, a board's
/// BOOT is heard when it happens, and an open link stays open (the keeper only looks at it).
/// Once the far side has closed a link the keeper opened, it leaves it closed and the next request
/// opens it: the board was taken by another peer (<c>wasmorch conformance</c>, a second gateway) or
/// went away, and reopening unasked would take it from whoever has it now.
/// </summary>
public static partial class LinkKeeper
{
    /// <summary>How often an open link is looked at.</summary>
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan FirstBackOff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackOff = TimeSpan.FromSeconds(30);

    public static Task RunAsync(IEnumerable<DeviceSession> sessions, ILogger logger, CancellationToken ct) =>
        Task.WhenAll(sessions.Select(session => Supervision.LoopSupervisor.RunAsync($"link to {session.Name}", c => KeepAsync(session, logger, c), logger, ct)));

    private static async Task KeepAsync(DeviceSession session, ILogger logger, CancellationToken ct)
    {
        var backOff = FirstBackOff;
        var reachable = true;
        while (!session.IsConnected)
        {
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
                backOff = TimeSpan.FromTicks(Math.Min(backOff.Ticks * 2, MaxBackOff.Ticks));
                continue;
            }
            if (!session.IsConnected)
            {
                // A request holds the device and opens the link itself: look again in a moment.
                await Task.Delay(CheckInterval, ct);
            }
        }
        LogOpened(logger, session.Name);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {Device}: cannot open its link ({Reason}); trying again from {BackOffMs} ms on, with back-off")]
    private static partial void LogUnreachable(ILogger logger, string device, string reason, long backOffMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Device {Device}: link open; from now on it opens again on the next request if it closes")]
    private static partial void LogOpened(ILogger logger, string device);
}
