using System.CommandLine;
using Wasmorch.Cli.Client;
using Wasmorch.Gateway;

namespace Wasmorch.Cli.Commands;

/// <summary><c>wasmorch fleet release</c>: fleet housekeeping through NATS (docs/fleet.md).</summary>
public static class FleetCommand
{
    public static Command Create(GlobalOptions global)
    {
        var force = new Option<bool>("--force") { Description = "Release even though the owning gateway still answers" };
        var release = new Command("release", "Give up a device's claim so another gateway may take it (needs --gateway nats://...)") { force };
        global.Takes(release, GlobalUse.Device | GlobalUse.Connection);
        release.SetAction(async (pr, ct) =>
        {
            if (!FleetAddress.TryParse(pr.GetValue(global.Gateway), out var address) || address is null)
            {
                await Console.Error.WriteLineAsync("error: fleet release talks to the fleet itself: --gateway nats://host:port[?fleet=name]");
                return ExitCodes.Usage;
            }
            if (pr.GetValue(global.Device) is not { Length: > 0 } device)
            {
                await Console.Error.WriteLineAsync("error: fleet release needs --device <name>");
                return ExitCodes.Usage;
            }
            try
            {
                await using var fleet = await FleetClient.ObserveAsync(address, ct);
                var owner = await fleet.ReleaseAsync(device, pr.GetValue(force), ct);
                Console.WriteLine($"released {device} (was gateway {TerminalText.Line(owner)})");
                return ExitCodes.Ok;
            }
            catch (GatewayException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Code}: {TerminalText.Line(ex.Message)}");
                return ExitCodes.ForError(ex.Code);
            }
        });
        return new Command("fleet", "Fleet set-up and housekeeping (docs/fleet.md)") { release, Init() };
    }

    private static Command Init()
    {
        var dir = new Option<string>("--dir") { Description = "Folder for the fleet's files (nats-server.conf, keys, one .toml per gateway, ops.toml)", Required = true };
        var fleet = new Option<string>("--fleet") { Description = "The fleet's name", Required = true };
        var gateways = new Option<string>("--gateways") { Description = "The gateways' names, comma-separated (gw-a,gw-b)", Required = true };
        var listen = new Option<string>("--listen") { Description = "Where nats-server listens (default 127.0.0.1:4222)", DefaultValueFactory = _ => "127.0.0.1:4222" };
        var port = new Option<int>("--first-port") { Description = "Host API port of the first gateway; the next ones count up (default 9000)", DefaultValueFactory = _ => 9000 };
        var init = new Command("init", "Write a secure fleet: nats-server.conf (account, users, narrowed permissions), keys, and a config per gateway") { dir, fleet, gateways, listen, port };
        init.SetAction(pr =>
        {
            try
            {
                var names = pr.GetValue(gateways)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                foreach (var path in FleetInit.Write(pr.GetValue(dir)!, pr.GetValue(fleet)!, names, pr.GetValue(listen)!, pr.GetValue(port)))
                {
                    Console.WriteLine($"wrote {path}");
                }
                var conf = Path.Combine(Path.GetFullPath(pr.GetValue(dir)!), "nats-server.conf");
                Console.WriteLine($"next: nats-server -c {conf}, then wasmorch gateway --config <dir>/<gateway>.toml on each gateway's machine (docs/fleet.md)");
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is UsageException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"error: {ex.Message}");
                return ExitCodes.Usage;
            }
        });
        return init;
    }
}
