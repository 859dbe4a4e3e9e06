using System.CommandLine;
using Wasmorch.Cli.Client;
using System.Globalization;
using System.Text.Json.Nodes;
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
            var sub = global.Takes(new Command(action, help), GlobalUse.GatewayOnly);
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
        global.Takes(command, GlobalUse.Selector | GlobalUse.GatewayOnly);
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

    /// <summary>How often start --wait asks for the status: a device's outcome is printed within this of its change.</summary>
    private static readonly TimeSpan FollowEvery = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// <c>start --wait</c>: follows the rollout live, asking for its status every
    /// <see cref="FollowEvery"/>: a line per device as its outcome changes (ok; failed, with the
    /// cause; rolled back), a line when the rollout changes state (paused, aborting), a line per wave
    /// as it is done (or as it stops the rollout), and at the end the rollout's status, its exit code
    /// the rollout's (10 rolled back, 11 aborted).
    /// </summary>
    private static async Task<int> FollowAsync(long id, Func<HostRequest, Task<(HostResponse Response, TimeSpan Latency)>> send, Client.ResponsePrinter printer, CancellationToken ct)
    {
        var reported = 0;
        var outcomes = new Dictionary<string, string>(StringComparer.Ordinal);
        var state = "running";
        while (true)
        {
            await Task.Delay(FollowEvery, ct);
            var (status, latency) = await send(new HostRequest { Op = HostOps.Rollout, Action = "status" });
            if (!status.Ok || status.Rollout is not { } rollout || rollout.Id != id)
            {
                // The gateway refused, or a newer rollout took its place (ours ended): the status says which.
                return status.Ok ? printer.Print("rollout", status, latency, _ => ExitCodes.Internal) : printer.Print("rollout", status, latency);
            }
            var ended = rollout.State is "done" or "rolled-back" or "aborted";
            if (rollout.State != state && !ended)
            {
                state = rollout.State;
                printer.Progress($"rollout {id} {state} at wave {rollout.Wave} of {rollout.Waves}" + (rollout.Reason is { } why ? $": {Client.TerminalText.Line(why)}" : ""), new JsonObject
                {
                    ["event"] = "state", ["rollout"] = id, ["state"] = state, ["wave"] = rollout.Wave, ["waves"] = rollout.Waves, ["reason"] = rollout.Reason,
                });
            }
            // Wave by wave, so that a wave's device lines come before its own line and after the
            // line of the wave before: waves before the one under way are done; a done rollout has
            // done its last, one that rolled back or was aborted stopped in the one under way.
            var done = rollout.State == "done" ? rollout.Waves : rollout.Wave - 1;
            for (var wave = 1; wave <= rollout.Waves; wave++)
            {
                foreach (var device in rollout.Devices.Where(d => d.Wave == wave))
                {
                    ReportDevice(id, device, outcomes, printer);
                }
                if (wave == reported + 1 && wave <= done)
                {
                    reported++;
                    ReportWave(id, rollout, wave, "done", printer);
                }
            }
            if (ended)
            {
                if (rollout.State != "done" && reported < rollout.Wave)
                {
                    ReportWave(id, rollout, rollout.Wave, rollout.State, printer);
                }
                return printer.Print("rollout", status, latency, r => ExitCodes.ForRollout(r.Rollout!));
            }
        }
    }

    /// <summary>A device's line when its outcome has changed since the last one printed (a failure first, with its cause, when it went straight to rolled back).</summary>
    private static void ReportDevice(long id, RolloutDevice device, Dictionary<string, string> outcomes, Client.ResponsePrinter printer)
    {
        var before = outcomes.GetValueOrDefault(device.Device, "pending");
        if (device.Outcome == before || device.Outcome is "pending" or "deploying")
        {
            return;
        }
        if (device.Outcome == "rolled-back" && before != "failed" && device.Failure is not null)
        {
            Line(id, device, "failed", printer);
        }
        Line(id, device, device.Outcome, printer);
        outcomes[device.Device] = device.Outcome;

        static void Line(long id, RolloutDevice device, string outcome, Client.ResponsePrinter printer) =>
            printer.Progress($"rollout {id} wave {device.Wave}: {device.Device} {outcome}"
                + (outcome == "failed" && device.Failure is { } f ? $": {Client.ResponsePrinter.Cause(f)}" : "")
                + (outcome == "rolled-back" && device.Message is { } m ? $" ({Client.TerminalText.Line(m)})" : ""), new JsonObject
            {
                ["event"] = "device", ["rollout"] = id, ["wave"] = device.Wave, ["device"] = device.Device, ["outcome"] = outcome,
                ["failure"] = outcome == "failed" && device.Failure is { } failure
                    ? new JsonObject { ["kind"] = failure.Kind, ["code"] = failure.Code, ["value"] = failure.Value, ["detail"] = failure.Detail, ["job"] = failure.Job }
                    : null,
            });
    }

    private static void ReportWave(long id, RolloutInfo rollout, int wave, string how, Client.ResponsePrinter printer)
    {
        var devices = rollout.Devices.Where(d => d.Wave == wave).ToList();
        var failed = devices.Count(d => d.Failure is not null);
        printer.Progress($"rollout {id} wave {wave} of {rollout.Waves} {how}: {devices.Count} device(s), {failed} failed", new JsonObject
        {
            ["event"] = "wave", ["rollout"] = id, ["wave"] = wave, ["waves"] = rollout.Waves, ["state"] = how, ["devices"] = devices.Count, ["failed"] = failed,
        });
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
