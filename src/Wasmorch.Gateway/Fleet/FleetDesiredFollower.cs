using Microsoft.Extensions.Logging;
using Wasmorch.Gateway.Desired;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Fleet;

/// <summary>
/// Adopts the fleet's desired state (docs/fleet-ops.md): the one it has when this gateway joins
/// (an apply made while it was away) and each new one, for this gateway's own devices, through the
/// gateway's own <c>apply</c> (so the reconciler keeps them there from then on). It runs supervised:
/// an exception it does not name is logged and the watch started again after a back-off.
/// </summary>
public sealed partial class FleetDesiredFollower(IFleet fleet, Reconciler reconciler, ServeForwarded serve, FleetTimings timings, ILogger logger)
{
    /// <summary>Follows until <paramref name="ct"/> ends; never throws.</summary>
    public Task RunAsync(CancellationToken ct) =>
        Supervision.LoopSupervisor.RunAsync("fleet desired state follower", FollowAsync, logger, ct, firstBackOff: timings.DesiredRetry);

    private async Task FollowAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await foreach (var (document, current) in fleet.WatchDesiredAsync(ct))
                {
                    // The state the fleet had when this gateway joined is adopted at once; a new one is first left to the gateway that applies it.
                    await AdoptAsync(document, current ? TimeSpan.Zero : timings.DesiredGrace, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (GatewayException ex)
            {
                // Not joined yet, or NATS away: the watch starts again, and delivers the latest state first.
                LogWatchFailed(logger, ex.Message);
            }
            try
            {
                await Task.Delay(timings.DesiredRetry, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    // A new desired state is left to the gateway that applied it for timings.DesiredGrace: it hands
    // it to every gateway with selected devices and reports what each did, so this one adopts it
    // itself only when that hand-over does not come (that gateway died in the middle, or this one has
    // no selected device).
    private static readonly TimeSpan GraceStep = TimeSpan.FromMilliseconds(100);

    private async Task AdoptAsync(byte[] document, TimeSpan grace, CancellationToken ct)
    {
        if (!HostJson.TryParseRequest(document, out var request, out var error) || request!.Op != HostOps.Apply || request.Desired is null)
        {
            LogUnreadable(logger, error);
            return;
        }
        for (var waited = TimeSpan.Zero; !reconciler.Holds(request.Desired) && waited < grace; waited += GraceStep)
        {
            await Task.Delay(GraceStep, ct);
        }
        if (reconciler.Holds(request.Desired))
        {
            // This gateway applied it itself, or was handed it.
            return;
        }
        var outcome = await serve(request, _ => Task.CompletedTask, ct);
        LogAdopted(logger, request.Desired.Count, outcome.Ok ? "converged" : outcome.Error?.Message ?? "?");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Fleet desired state adopted ({Modules} module(s)): {Outcome}")]
    private static partial void LogAdopted(ILogger logger, int modules, string outcome);

    [LoggerMessage(Level = LogLevel.Error, Message = "The fleet's desired state cannot be read ({Reason}); the gateway keeps the one it has")]
    private static partial void LogUnreadable(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot watch the fleet's desired state ({Reason}); trying again")]
    private static partial void LogWatchFailed(ILogger logger, string reason);
}
