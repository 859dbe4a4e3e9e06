using System.Globalization;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli.Client;

/// <summary>
/// While a pass of <c>run</c>/<c>watch</c> waits for its job's result: a job still running after
/// <see cref="Patience"/> (a blink loop, a sensor loop: a function that never returns) is named,
/// "nucleo: started job 3 (toggle_forever.run), waiting for its result", and its LOG lines are
/// printed as they come, those it logged before included, until the result or the next pass.
/// A function that returns sooner prints nothing more than before.
/// </summary>
public static class WaitingJob
{
    /// <summary>Long enough for a function that returns at once not to be announced; short enough that a person waiting sees why.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(1);

    /// <summary>Runs until <paramref name="ct"/> ends (the result came, or the pass was given up).</summary>
    public static async Task FollowAsync(GatewayAddress address, string? tlsCa, string? token, string device, string moduleId, string func, ResponsePrinter printer, CancellationToken ct)
    {
        try
        {
            await Task.Delay(Patience, ct);
            await using var client = await GatewayClient.ConnectAsync(address, ct, tlsCa);
            var (status, _) = await client.SendAsync(new HostRequest { Op = HostOps.Status, Device = device, Token = token }, TimeSpan.FromSeconds(10), ct);
            if (!status.Ok || status.Agent?.GetValueOrDefault(AgentKeys.State) != "RUNNING"
                || !long.TryParse(status.Agent.GetValueOrDefault(AgentKeys.Job), NumberStyles.None, CultureInfo.InvariantCulture, out var job))
            {
                // The result is on its way (the job ended meanwhile), or the board cannot say: nothing to add.
                return;
            }
            printer.PrintWaiting(device, moduleId, func, job);
            var follow = new HostRequest { Op = HostOps.Logs, Device = device, Follow = true, Token = token };
            await foreach (var response in client.StreamAsync(follow, ct))
            {
                // The first answer is the recent lines (this job's early ones among them), then one line each.
                foreach (var entry in response.Log is { } one ? [one] : response.Logs ?? [])
                {
                    if (entry.Job == job && entry.ModuleId == moduleId)
                    {
                        printer.PrintJobLog(entry);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The result came (or the pass was given up): the pass prints the rest.
        }
        catch (GatewayUnreachableException)
        {
            // Only a notice: the pass itself reports a gateway that went away.
        }
    }
}
