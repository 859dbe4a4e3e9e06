using System.CommandLine;
using Wasmorch.Cli.Client;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Protocol.Modules;

namespace Wasmorch.Cli.Commands;

/// <summary><c>wasmorch events [--device X] [--topic T] [--limit N] [--follow]</c>: what modules published (docs/protocol.md §6c).</summary>
public static class EventsCommand
{
    public static Command Create(GlobalOptions global)
    {
        // No -f: across the CLI -f is --file (deploy, apply, diff); `events -f` says so and suggests --follow.
        var follow = new Option<bool>("--follow") { Description = "Keep printing new events until Ctrl-C" };
        var topic = new Option<string>("--topic", "-t") { Description = "Only events of this topic" };
        var limit = RecentLimit.Option("events");
        var command = new Command("events", "Show what modules published with publish() (all devices, or --device), oldest first") { follow, topic, limit };
        global.Takes(command, GlobalUse.Device | GlobalUse.GatewayOnly);
        command.SetAction(async (pr, ct) =>
        {
            if (pr.GetValue(topic) is { } wanted && !NativeAbi.IsValidTopic(wanted))
            {
                await Console.Error.WriteLineAsync($"error: --topic '{wanted}' is not 1-32 of [A-Za-z0-9_.-/]");
                return ExitCodes.Usage;
            }
            if (RecentLimit.Check(pr, limit) is { } bad)
            {
                return bad;
            }
            var newest = pr.GetValue(limit);
            if (!pr.GetValue(follow))
            {
                return await DeviceCommands.Run(pr, global, "events", () => Task.FromResult(new HostRequest { Op = HostOps.Events, Topic = pr.GetValue(topic) }), TimeSpan.FromSeconds(30), ct, needsDevice: false,
                    trim: r => r.Events = RecentLimit.Newest(r.Events, newest));
            }
            var printer = new ResponsePrinter(Console.Out, Console.Error, pr.GetValue(global.Json));
            var request = new HostRequest { Op = HostOps.Events, Device = pr.GetValue(global.Device), Topic = pr.GetValue(topic), Token = pr.GetValue(global.Token) };
            return await Follower.RunAsync(pr.GetValue(global.Gateway), pr.GetValue(global.TlsCa), request, r =>
            {
                r.Events = RecentLimit.Newest(r.Events, newest);
                printer.PrintEvents(r);
            }, ct);
        });
        return command;
    }
}
