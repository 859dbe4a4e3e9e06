using System.CommandLine;
using Wasmorch.Cli.Client;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli.Commands;

/// <summary><c>wasmorch logs [--device X] [--follow]</c>: modules' LOG lines as the gateway received them.</summary>
public static class LogsCommand
{
    public static Command Create(GlobalOptions global)
    {
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new entries until Ctrl-C" };
        var command = new Command("logs", "Show log lines from modules (all devices, or --device)") { follow };
        command.SetAction(async (pr, ct) =>
        {
            if (!pr.GetValue(follow))
            {
                return await DeviceCommands.Run(pr, global, "logs", () => Task.FromResult(new HostRequest { Op = HostOps.Logs }), TimeSpan.FromSeconds(30), ct, needsDevice: false);
            }
            var printer = new ResponsePrinter(Console.Out, Console.Error, pr.GetValue(global.Json));
            var request = new HostRequest { Op = HostOps.Logs, Device = pr.GetValue(global.Device), Token = pr.GetValue(global.Token) };
            return await Follower.RunAsync(pr.GetValue(global.Gateway), pr.GetValue(global.TlsCa), request, printer.PrintLog, ct);
        });
        return command;
    }
}
