using System.Text.Json;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// Issue 34, item 9: a name that is not there (a device, a fleet, a module) is answered with the
/// names that are, so that the typo is seen at once.
/// </summary>
public sealed class UnknownNameTests
{
    private static SystemUnderTest Member(NatsServer nats, string gateway, string board)
    {
        var system = new SystemUnderTest();
        system.StartBoard(board, 0);
        system.GatewayArgs.AddRange(["--nats", nats.Url, "--name", gateway, "--fleet", "lab", "--fleet-insecure"]);
        system.StartGateway();
        return system;
    }

    private static JsonElement Error(CliResult result, int exit)
    {
        CliAssert.Exit(exit, result);
        using var json = JsonDocument.Parse(result.Stdout);
        Assert.Equal(exit, json.RootElement.GetProperty("exit_code").GetInt32());
        return json.RootElement.GetProperty("error").Clone();
    }

    [Fact]
    public async Task An_unknown_device_on_a_fleet_gateway_or_through_the_fleet_lists_every_gateways_devices()
    {
        await using var nats = NatsServer.Start();
        await using var a = Member(nats, "gw-a", "nucleo");
        await using var b = Member(nats, "gw-b", "disco");

        // Before: "no device 'ghost' in the device map (known: nucleo)", gw-a's own devices only.
        var onGateway = Error(await a.CliAsync("--json", "-d", "ghost", "status"), 4);
        Assert.Equal("UNKNOWN_DEVICE", onGateway.GetProperty("code").GetString());
        Assert.Equal("no device 'ghost' in this gateway's map, and no gateway of its fleet owns one (the fleet's devices: disco (gw-b), nucleo (gw-a))",
            onGateway.GetProperty("message").GetString());

        // jobs answers for the whole fleet itself: the same list.
        var jobs = Error(await b.CliAsync("--json", "-d", "ghost", "jobs"), 4);
        Assert.Equal("no device 'ghost' in this gateway's map, and no gateway of its fleet owns one (the fleet's devices: disco (gw-b), nucleo (gw-a))",
            jobs.GetProperty("message").GetString());

        var throughFleet = Error(await CliRunner.RunAsync($"{nats.Url}?fleet=lab", "--json", "-d", "ghost", "status"), 4);
        Assert.Equal("no gateway of fleet 'lab' owns a device 'ghost' (the fleet's devices: disco (gw-b), nucleo (gw-a))", throughFleet.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_fleet_address_whose_fleet_is_not_on_the_server_names_it_and_the_fleets_that_are()
    {
        await using var nats = NatsServer.Start();
        await using var a = Member(nats, "gw-a", "nucleo");

        // No ?fleet=: "default" is asked, and the error says so (it used to be JetStream's "stream not found").
        var unnamed = Error(await CliRunner.RunAsync(nats.Url, "--json", "-d", "nucleo", "status"), 2);
        Assert.Equal("BAD_REQUEST", unnamed.GetProperty("code").GetString());
        Assert.Equal($"no fleet 'default' at {nats.Url}: the address names no fleet, so 'default' was asked (add ?fleet=<name>: {nats.Url}?fleet=lab); fleets there: lab",
            unnamed.GetProperty("message").GetString());

        var misspelt = Error(await CliRunner.RunAsync($"{nats.Url}?fleet=lap", "--json", "devices"), 2);
        Assert.Equal($"no fleet 'lap' at {nats.Url}; fleets there: lab", misspelt.GetProperty("message").GetString());

        // The fleet named: it answers.
        CliAssert.Exit(0, await CliRunner.RunAsync($"{nats.Url}?fleet=lab", "-d", "nucleo", "status"));
    }

    [Fact]
    public async Task No_module_names_the_modules_the_board_holds()
    {
        await using var system = await SystemUnderTest.StartAsync("nucleo");
        var none = Error(await system.CliAsync("--json", "-d", "nucleo", "unload", "-m", "math_ops"), 7);
        Assert.Equal("NO_MODULE", none.GetProperty("code").GetString());
        Assert.Equal("nucleo holds no module", none.GetProperty("details").GetString());

        CliAssert.Exit(0, await system.CliAsync("-d", "nucleo", "build-and-deploy", "-m", "math_ops", "-s", RepoPaths.Module("math_ops.c")));
        CliAssert.Exit(0, await system.CliAsync("-d", "nucleo", "build-and-deploy", "-m", "counter", "-s", RepoPaths.Module("counter.c")));
        var typo = Error(await system.CliAsync("--json", "-d", "nucleo", "start", "-m", "math_op", "-F", "add", "-a", "1,2", "--wait-result"), 7);
        Assert.Equal("NO_MODULE", typo.GetProperty("code").GetString());
        Assert.Equal("nucleo holds: counter, math_ops", typo.GetProperty("details").GetString());

        // Printed for a person: the refusal, then what the board holds.
        var stop = await system.CliAsync("-d", "nucleo", "stop", "-m", "math_op");
        CliAssert.Exit(7, stop);
        Assert.Matches("^error: NO_MODULE: .*\nnucleo holds: counter, math_ops\n$", stop.Stderr);
    }
}
