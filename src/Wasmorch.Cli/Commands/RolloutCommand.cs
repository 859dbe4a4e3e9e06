using System.CommandLine;
using System.Globalization;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli.Commands;

/// <summary><c>rollout start|status|pause|resume|abort</c>: a staged rollout with health checks (docs/fleet-ops.md).</summary>
public static class RolloutCommand
{
    public static Command Create(GlobalOptions global)
    {
        var command = new Command("rollout", "Staged rollout of a module over --selector's devices, wave by wave, with a health check and automatic rollback");
        command.Subcommands.Add(Start(global));
        foreach (var (action, help) in new[]
        {
            ("status", "Where the newest rollout is: its state, wave, and each device's outcome"),
            ("pause", "Stop the running rollout after the devices under way; resume carries it on"),
            ("resume", "Carry a paused rollout on"),
            ("abort", "Stop the rollout and put every device it touched back to the version it had"),
        })
        {
            var sub = new Command(action, help);
            sub.SetAction((pr, ct) => DeviceCommands.Run(pr, global, "rollout", () => Task.FromResult(new HostRequest { Op = HostOps.Rollout, Action = action }),
                TimeSpan.FromMinutes(5), ct, needsDevice: false, takesSelector: true));
            command.Subcommands.Add(sub);
        }
        return command;
    }

    private static Command Start(GlobalOptions global)
    {
        var moduleId = new Option<string>("--module-id", "-m") { Description = "Module id", Required = true };
        var source = new Option<FileInfo>("--source", "-s") { Description = "C source to build (or --wasm)" };
        var wasm = new Option<FileInfo>("--wasm") { Description = "Module file (or --source)" };
        var waves = new Option<string>("--waves") { Description = "Wave sizes, counts or percentages, growing to 100%", DefaultValueFactory = _ => RolloutWaves.Default };
        var check = new Option<string>("--check") { Description = "func[:args] each device runs after the deploy; it must return 0", Required = true };
        var maxFailures = new Option<int>("--max-failures") { Description = "Failed devices tolerated; one more stops the rollout and rolls back", DefaultValueFactory = _ => 0 };
        var soak = new Option<string>("--soak") { Description = "How long each device is watched after its check (5s, 500ms, 2m): a job that ends badly then fails it", DefaultValueFactory = _ => "0s" };
        var signKey = new Option<FileInfo>("--sign-key") { Description = "Sign the rollout (module id, mode, selector and the module's SHA-256; --wasm only) once for every device it selects, with this Ed25519 private key" };
        var command = new Command("start", "Start a rollout: --selector, --module-id, --source or --wasm, --check") { moduleId, source, wasm, waves, check, maxFailures, soak, signKey };
        command.SetAction(async (pr, ct) =>
        {
            if (pr.GetValue(global.Selector) is not { } selector)
            {
                await Console.Error.WriteLineAsync("error: rollout start needs --selector <labels>");
                return ExitCodes.Usage;
            }
            if ((pr.GetValue(source) is null) == (pr.GetValue(wasm) is null))
            {
                await Console.Error.WriteLineAsync("error: rollout start needs exactly one of --source and --wasm");
                return ExitCodes.Usage;
            }
            if (!RolloutWaves.TryParse(pr.GetValue(waves)!, out _, out var wavesError))
            {
                await Console.Error.WriteLineAsync($"error: --waves: {wavesError}");
                return ExitCodes.Usage;
            }
            if (!TryParseDuration(pr.GetValue(soak)!, out var soakMs))
            {
                await Console.Error.WriteLineAsync($"error: --soak {pr.GetValue(soak)} is not a duration such as 5s, 500ms or 2m (at most 10m)");
                return ExitCodes.Usage;
            }
            return await DeviceCommands.Run(pr, global, "rollout", async () => new HostRequest
            {
                Op = HostOps.Rollout,
                Action = "start",
                Selector = selector,
                ModuleId = pr.GetValue(moduleId),
                Source = pr.GetValue(source) is { } c ? await File.ReadAllTextAsync(c.FullName, ct) : null,
                SourceName = pr.GetValue(source)?.Name,
                Module = pr.GetValue(wasm) is { } w ? Convert.ToBase64String(await File.ReadAllBytesAsync(w.FullName, ct)) : null,
                Waves = pr.GetValue(waves),
                Check = pr.GetValue(check),
                MaxFailures = pr.GetValue(maxFailures),
                SoakMs = soakMs,
            }, TimeSpan.FromMinutes(5), ct, needsDevice: false, signKey: pr.GetValue(signKey), takesSelector: true);
        });
        return command;
    }

    /// <summary>5s, 500ms, 2m; at most 10 minutes.</summary>
    public static bool TryParseDuration(string text, out int milliseconds)
    {
        milliseconds = 0;
        var (number, scale) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 1)
            : text.EndsWith('s') ? (text[..^1], 1000)
            : text.EndsWith('m') ? (text[..^1], 60_000)
            : (text, -1);
        if (scale < 0 || !int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || (long)value * scale > 600_000)
        {
            return false;
        }
        milliseconds = value * scale;
        return true;
    }
}
