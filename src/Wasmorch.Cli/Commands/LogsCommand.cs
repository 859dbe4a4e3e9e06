using System.CommandLine;
using Wasmorch.Cli.Client;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli.Commands;

/// <summary><c>wasmorch logs [--device X] [--limit N] [--follow]</c>: modules' LOG lines as the gateway received them.</summary>
public static class LogsCommand
{
    public static Command Create(GlobalOptions global)
    {
        // No -f: across the CLI -f is --file (deploy, apply, diff); `logs -f` says so and suggests --follow.
        var follow = new Option<bool>("--follow") { Description = "Keep printing new entries until Ctrl-C" };
        var limit = RecentLimit.Option("lines");
        var command = new Command("logs", "Show log lines from modules (all devices, or --device), oldest first") { follow, limit };
        global.Takes(command, GlobalUse.Device | GlobalUse.GatewayOnly);
        command.SetAction(async (pr, ct) =>
        {
            if (RecentLimit.Check(pr, limit) is { } bad)
            {
                return bad;
            }
            var newest = pr.GetValue(limit);
            if (!pr.GetValue(follow))
            {
                return await DeviceCommands.Run(pr, global, "logs", () => Task.FromResult(new HostRequest { Op = HostOps.Logs }), TimeSpan.FromSeconds(30), ct, needsDevice: false,
                    trim: r => r.Logs = RecentLimit.Newest(r.Logs, newest));
            }
            var printer = new ResponsePrinter(Console.Out, Console.Error, pr.GetValue(global.Json));
            var request = new HostRequest { Op = HostOps.Logs, Device = pr.GetValue(global.Device), Token = pr.GetValue(global.Token) };
            return await Follower.RunAsync(pr.GetValue(global.Gateway), pr.GetValue(global.TlsCa), request, r =>
            {
                r.Logs = RecentLimit.Newest(r.Logs, newest);
                printer.PrintLog(r);
            }, ct);
        });
        return command;
    }
}
