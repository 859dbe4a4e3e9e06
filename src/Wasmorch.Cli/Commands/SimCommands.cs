using System.CommandLine;
using Wasmorch.Emulator.Peripherals;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli.Commands;

/// <summary>
/// The simulated inputs of an emulated board (SIM, docs/protocol.md §6d):
/// <c>wasmorch gpio set --pin 3 1</c> drives an input pin (gpio_wait_edge sees the edge),
/// <c>wasmorch sim --temperature 25.5</c> sets what the I2C temperature sensor measures.
/// </summary>
public static class SimCommands
{
    public static IEnumerable<Command> Create(GlobalOptions global)
    {
        // No -p: across the CLI -p is the gateway's --port.
        var pin = new Option<int>("--pin") { Description = "The input pin (0-15)", Required = true };
        var level = new Argument<int>("level") { Description = "0 (low) or 1 (high)" };
        var set = new Command("set", "Drive an emulated board's input pin (an edge wakes gpio_wait_edge)") { pin, level };
        global.Takes(set, GlobalUse.Devices);
        set.SetAction((pr, ct) =>
        {
            if (pr.GetValue(level) is not (0 or 1))
            {
                return Usage($"the level must be 0 or 1, not {pr.GetValue(level)}");
            }
            if (pr.GetValue(pin) is < 0 or > 15)
            {
                return Usage($"--pin {pr.GetValue(pin)} is out of range (0-15)");
            }
            return DeviceCommands.Run(pr, global, "sim", () => Task.FromResult(new HostRequest { Op = HostOps.Sim, Pin = pr.GetValue(pin), Level = pr.GetValue(level) }), TimeSpan.FromSeconds(30), ct);
        });
        yield return new Command("gpio", "GPIO of emulated boards") { set };

        var temperature = new Option<string>("--temperature") { Description = "What the TMP102 on I2C bus 0 measures, in degrees Celsius (-55 to 125)", Required = true };
        var sim = new Command("sim", "Set an emulated board's simulated sensor") { temperature };
        global.Takes(sim, GlobalUse.Devices);
        sim.SetAction((pr, ct) =>
        {
            var text = pr.GetValue(temperature)!;
            if (!Tmp102.TryParseCelsius(text, out var milliC))
            {
                return Usage($"--temperature '{text}' is not a number of degrees Celsius from {Tmp102.CelsiusRange}");
            }
            return DeviceCommands.Run(pr, global, "sim", () => Task.FromResult(new HostRequest { Op = HostOps.Sim, TempMc = milliC }), TimeSpan.FromSeconds(30), ct);
        });
        yield return sim;
    }

    private static async Task<int> Usage(string message)
    {
        await Console.Error.WriteLineAsync($"error: {message}");
        return ExitCodes.Usage;
    }
}
