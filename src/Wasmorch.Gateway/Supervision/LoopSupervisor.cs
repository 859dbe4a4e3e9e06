using Microsoft.Extensions.Logging;

namespace Wasmorch.Gateway.Supervision;

/// <summary>
/// Keeps a gateway's background loop (a rollout's run, the reconciler) alive: an exception the loop
/// did not expect is logged with its stack and the loop started again after a back-off (1 s, 2 s,
/// 4 s... at most 30 s). Without it such a loop ends as a faulted task nobody awaits: the rollout
/// says "running" and never moves, the reconciler stops converging, and nothing says why.
/// </summary>
public static partial class LoopSupervisor
{
    /// <summary>
    /// Runs <paramref name="loop"/> until it returns or <paramref name="ct"/> is cancelled, starting it
    /// again after each unexpected exception. Never throws.
    /// </summary>
    public static async Task RunAsync(string name, Func<CancellationToken, Task> loop, ILogger logger, CancellationToken ct,
        TimeSpan? firstBackOff = null, TimeSpan? maxBackOff = null)
    {
        var backOff = firstBackOff ?? TimeSpan.FromSeconds(1);
        var max = maxBackOff ?? TimeSpan.FromSeconds(30);
        for (var restarts = 1; ; restarts++)
        {
            try
            {
                await loop(ct);
                return;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                // A bug or a failure nobody foresaw: logged, never swallowed silently, and the loop goes on.
                LogRestarting(logger, ex, name, restarts, (long)backOff.TotalMilliseconds);
            }
            try
            {
                await Task.Delay(backOff, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            backOff = TimeSpan.FromTicks(Math.Min(backOff.Ticks * 2, max.Ticks));
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Loop} failed unexpectedly; restart {Restart} in {BackOffMs} ms")]
    private static partial void LogRestarting(ILogger logger, Exception exception, string loop, int restart, long backOffMs);
}
