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

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        await Console.Error.WriteLineAsync($"error: {error.Message}");
    }
    await Console.Error.WriteLineAsync("run 'wasmorch --help' for usage");
    return ExitCodes.Usage;
}
return await parsed.InvokeAsync();
