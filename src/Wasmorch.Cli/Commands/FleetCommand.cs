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
        return new Command("fleet", "Fleet housekeeping (docs/fleet.md)") { release };
    }
}
