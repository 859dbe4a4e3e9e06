using System.CommandLine;
using Wasmorch.Cli.Client;
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
            // status exits 10 for a rolled-back rollout, 11 for an aborted one; the others say whether they were done.
            sub.SetAction((pr, ct) => DeviceCommands.Run(pr, global, "rollout", () => Task.FromResult(new HostRequest { Op = HostOps.Rollout, Action = action }),
                TimeSpan.FromMinutes(5), ct, needsDevice: false, takesSelector: true, exitOf: action == "status" ? r => ExitCodes.ForRollout(r.Rollout!) : null));
            command.Subcommands.Add(sub);
        }
        return command;
    }

    private static Command Start(GlobalOptions global)
    {
        var moduleId = new Option<string>("--module-id", "-m") { Description = "Module id", Required = true };
        var source = new Option<FileInfo>("--source", "-s") { Description = "Source to build: C, C++, Rust or AssemblyScript (or --wasm)" };
        var wasm = new Option<FileInfo>("--wasm") { Description = "Module file (or --source)" };
        var waves = new Option<string>("--waves") { Description = "Wave sizes, counts or percentages, growing to 100%", DefaultValueFactory = _ => RolloutWaves.Default };
        var check = new Option<string>("--check") { Description = "func[:args] each device runs after the deploy; it must return 0", Required = true };
        var maxFailures = new Option<int>("--max-failures") { Description = "Failed devices tolerated; one more stops the rollout and rolls back", DefaultValueFactory = _ => 0 };
        var soak = new Option<string>("--soak") { Description = "How long each device is watched after its check (5s, 500ms, 2m): a job that ends badly then fails it", DefaultValueFactory = _ => "0s" };
        var signKey = new Option<FileInfo>("--sign-key") { Description = "Sign the rollout (module id, mode, selector and the module's SHA-256; --wasm only) once for every device it selects, with this Ed25519 private key" };
        var wait = new Option<bool>("--wait") { Description = "Follow the rollout to its end, a line per wave done; exit 10 if it rolls back, 11 if it is aborted" };
        var command = new Command("start", "Start a rollout: --selector, --module-id, --source or --wasm, --check") { moduleId, source, wasm, waves, check, maxFailures, soak, signKey, wait };
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
            return await DeviceCommands.Run(pr, global, "rollout", async () =>
            {
                // A source goes with the files it mods or imports beside it (Rust, AssemblyScript).
                var set = pr.GetValue(source) is { } c
                    ? await SourceSet.ReadAsync(c, SourceSet.LanguageOf(c, null) ?? Wasmorch.Gateway.Build.SourceLanguage.C, bundleHeaders: false, ct)
                    : null;
                return new HostRequest
            {
                Op = HostOps.Rollout,
                Action = "start",
                Selector = selector,
                ModuleId = pr.GetValue(moduleId),
                Source = set?.Text,
                Files = set?.Files,
                SourceName = pr.GetValue(source)?.Name,
                Module = pr.GetValue(wasm) is { } w ? Convert.ToBase64String(await File.ReadAllBytesAsync(w.FullName, ct)) : null,
                Waves = pr.GetValue(waves),
                Check = pr.GetValue(check),
                MaxFailures = pr.GetValue(maxFailures),
                SoakMs = soakMs,
            };
            }, TimeSpan.FromMinutes(5), ct, needsDevice: false, signKey: pr.GetValue(signKey), takesSelector: true,
                then: pr.GetValue(wait) ? (started, send, printer) => FollowAsync(started.Rollout!.Id, send, printer, ct) : null);
        });
        return command;
    }

    /// <summary>
    /// <c>start --wait</c>: asks for the status every half second, prints a line for each wave as it
    /// is done, and at the end the rollout's status, its exit code the rollout's (10 rolled back, 11 aborted).
    /// </summary>
    private static async Task<int> FollowAsync(long id, Func<HostRequest, Task<(HostResponse Response, TimeSpan Latency)>> send, Client.ResponsePrinter printer, CancellationToken ct)
    {
        var reported = 0;
        while (true)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
            var (status, latency) = await send(new HostRequest { Op = HostOps.Rollout, Action = "status" });
            if (!status.Ok || status.Rollout is not { } rollout || rollout.Id != id)
            {
                // The gateway refused, or a newer rollout took its place (ours ended): the status says which.
                return status.Ok ? printer.Print("rollout", status, latency, _ => ExitCodes.Internal) : printer.Print("rollout", status, latency);
            }
            var ended = rollout.State is "done" or "rolled-back" or "aborted";
            // Waves before the one under way are done; a done rollout has done its last.
            var done = rollout.State == "done" ? rollout.Waves : rollout.Wave - 1;
            while (reported < done)
            {
                reported++;
                var wave = rollout.Devices.Where(d => d.Wave == reported).ToList();
                var failed = wave.Count(d => d.Failure is not null);
                printer.Progress($"rollout {id} wave {reported} of {rollout.Waves} done: {wave.Count} device(s), {failed} failed", new System.Text.Json.Nodes.JsonObject
                {
                    ["event"] = "wave", ["rollout"] = id, ["wave"] = reported, ["waves"] = rollout.Waves, ["devices"] = wave.Count, ["failed"] = failed,
                });
            }
            if (ended)
            {
                return printer.Print("rollout", status, latency, r => ExitCodes.ForRollout(r.Rollout!));
            }
        }
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
