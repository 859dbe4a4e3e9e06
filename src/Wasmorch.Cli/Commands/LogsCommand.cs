using System.CommandLine;
using Wasmorch.Cli.Client;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli.Commands;

/// <summary><c>wasmorch logs [--device X] [--follow]</c>: modules' LOG lines as the gateway received them.</summary>
public static class LogsCommand
{
    public static Command Create(GlobalOptions global)
    {
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new entries until Ctrl-C" };
        var command = new Command("logs", "Show log lines from modules (all devices, or --device)") { follow };
        command.SetAction(async (pr, ct) =>
        {
            if (!pr.GetValue(follow))
            {
                return await DeviceCommands.Run(pr, global, "logs", () => Task.FromResult(new HostRequest { Op = HostOps.Logs }), TimeSpan.FromSeconds(30), ct, needsDevice: false);
            }
            if (!GatewayAddress.TryResolve(pr.GetValue(global.Gateway), out var address, out var error))
            {
                await Console.Error.WriteLineAsync($"error: {error}");
                return ExitCodes.Usage;
            }
            var printer = new ResponsePrinter(Console.Out, Console.Error, pr.GetValue(global.Json));
            try
            {
                await using var client = await GatewayClient.ConnectAsync(address, ct, pr.GetValue(global.TlsCa));
                var request = new HostRequest
                {
                    Op = HostOps.Logs,
                    Follow = true,
                    Device = pr.GetValue(global.Device),
                    Token = pr.GetValue(global.Token) ?? Environment.GetEnvironmentVariable("WASMORCH_TOKEN"),
                };
                await foreach (var response in client.StreamAsync(request, ct))
                {
                    if (!response.Ok)
                    {
                        await Console.Error.WriteLineAsync($"error: {response.Error?.Code}: {response.Error?.Message}");
                        return ExitCodes.ForError(response.Error?.Code ?? string.Empty);
                    }
                    printer.PrintLog(response);
                }
                return ct.IsCancellationRequested ? ExitCodes.Ok : ExitCodes.GatewayUnreachable;
            }
            catch (GatewayUnreachableException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}");
                return ExitCodes.GatewayUnreachable;
            }
        });
        return command;
    }
}
