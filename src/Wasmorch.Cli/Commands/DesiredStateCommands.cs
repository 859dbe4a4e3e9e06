using System.CommandLine;
using Wasmorch.Gateway.Config;
using Wasmorch.Gateway.Desired;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli.Commands;

/// <summary><c>apply</c> and <c>diff</c>: the gateway's desired state (docs/fleet-ops.md).</summary>
public static class DesiredStateCommands
{
    public static IEnumerable<Command> Create(GlobalOptions global)
    {
        yield return Apply(global);
        yield return Diff(global);
    }

    private static Option<FileInfo> FileOption(bool required) => new("--file", "-f") { Description = "Desired-state file: [[module]] id, selector, source or wasm, mode, autostart", Required = required };

    private static Command Apply(GlobalOptions global)
    {
        var file = FileOption(required: true);
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the plan (missing, different, same, extra per device); change nothing" };
        var prune = new Option<bool>("--prune") { Description = "Also unload what the file does not name from the devices it selects (the plan's extra modules)" };
        var command = new Command("apply", "Make a file the gateway's desired state and converge every selected device to it; the gateway keeps them there") { file, dryRun, prune };
        global.Takes(command, GlobalUse.GatewayOnly);
        command.SetAction((pr, ct) => RunAsync(pr, global, "apply", pr.GetValue(file)!, pr.GetValue(dryRun), ct, pr.GetValue(prune)));
        return command;
    }

    private static Command Diff(GlobalOptions global)
    {
        var file = FileOption(required: false);
        var command = new Command("diff", "How the devices differ from the gateway's desired state (or from a file's, with --file)") { file };
        global.Takes(command, GlobalUse.GatewayOnly);
        command.SetAction((pr, ct) => pr.GetValue(file) is { } path
            ? RunAsync(pr, global, "diff", path, dryRun: true, ct)
            : DeviceCommands.Run(pr, global, "diff", () => Task.FromResult(new HostRequest { Op = HostOps.Diff }), TimeSpan.FromMinutes(2), ct, needsDevice: false, exitOf: ExitCodes.ForDiff));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult pr, GlobalOptions global, string name, FileInfo path, bool dryRun, CancellationToken ct, bool prune = false)
    {
        List<DesiredModule> desired;
        try
        {
            desired = Manifest.Load(path.FullName);
        }
        catch (ConfigException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return ExitCodes.Usage;
        }
        return await DeviceCommands.Run(pr, global, name, () => Task.FromResult(new HostRequest { Op = HostOps.Apply, Desired = desired, DryRun = dryRun, Prune = prune }),
            TimeSpan.FromMinutes(10), ct, needsDevice: false, exitOf: name == "diff" ? ExitCodes.ForDiff : null);
    }
}
