using System.CommandLine;
using Wasmorch.Cli;
using Wasmorch.Cli.Commands;

var global = new GlobalOptions();
var root = new RootCommand("wasmorch: build, deploy and run WebAssembly modules on embedded boards (or emulated ones)");
global.AddTo(root);
foreach (var command in DeviceCommands.Create(global))
{
    root.Subcommands.Add(command);
}
foreach (var command in RunCommands.Create(global))
{
    root.Subcommands.Add(command);
}
root.Subcommands.Add(GatewayCommand.Create(global));
root.Subcommands.Add(FleetCommand.Create(global));
root.Subcommands.Add(RolloutCommand.Create(global));
foreach (var command in DesiredStateCommands.Create(global))
{
    root.Subcommands.Add(command);
}
root.Subcommands.Add(EmulateCommand.Create(global));
root.Subcommands.Add(EventsCommand.Create(global));
foreach (var command in SimCommands.Create(global))
{
    root.Subcommands.Add(command);
}
root.Subcommands.Add(ConformanceCommand.Create(global));
root.Subcommands.Add(BuildCommand.Create());
root.Subcommands.Add(DoctorCommand.Create());
root.Subcommands.Add(FlashCommand.Create());
root.Subcommands.Add(KeygenCommand.Create());
HelpExamples.AddTo(root);

var parsed = root.Parse(args);
var errors = ParseErrors.Describe(parsed, global).ToList();
if (errors.Count > 0)
{
    foreach (var error in errors)
    {
        await Console.Error.WriteLineAsync($"error: {error}");
    }
    await Console.Error.WriteLineAsync($"run 'wasmorch {GlobalOptions.CommandPath(parsed.CommandResult.Command)} --help' for usage".Replace("wasmorch  --help", "wasmorch --help", StringComparison.Ordinal));
    return ExitCodes.Usage;
}
// Ctrl-C and SIGTERM cancel the command's token, so that it ends in order (a gateway closes its
// listeners and links, watch leaves its boards idle) with its own exit code. A command still running
// 5 s later, or a second signal, ends the process (130 / 143, the shell's convention).
using var shutdown = new CancellationTokenSource();
var signals = 0;
void OnSignal(System.Runtime.InteropServices.PosixSignalContext context)
{
    context.Cancel = true;
    var code = context.Signal == System.Runtime.InteropServices.PosixSignal.SIGINT ? 130 : 143;
    if (Interlocked.Increment(ref signals) > 1)
    {
        Environment.Exit(code);
    }
    shutdown.Cancel();
    _ = Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None).ContinueWith(_ => Environment.Exit(code), TaskScheduler.Default);
}
using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, OnSignal);
using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, OnSignal);
return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null }, shutdown.Token);
