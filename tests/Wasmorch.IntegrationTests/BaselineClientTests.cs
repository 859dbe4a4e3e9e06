using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>
/// A client that knows only the seed's baseline lines (no HELLO, so no AUTH) drives an emulator
/// process whose boards are open (--link-key off); boards with a link key refuse it (LinkSecurityTests).
/// </summary>
public sealed class BaselineClientTests
{
    [Fact]
    public async Task Seed_baseline_lines_work_against_an_open_emulator_process()
    {
        await using var system = new SystemUnderTest();
        system.StartBoard("nucleo", 0, "--link-key", "off");
        await using var agent = await AgentClient.ConnectAsync(system.BoardPorts["nucleo"]);

        var loaded = await agent.LoadAsync("math_ops", ModuleBuilder.Build("math_ops.c"));
        Assert.Equal("LOAD_OK", loaded.Verb);
        var started = await agent.RequestAsync("START module_id=math_ops func=add args=\"a=10,b=15\"");
        Assert.Equal("START_OK", started.Verb);
        var result = await agent.ReadUntilAsync("RESULT");
        Assert.Equal(("OK", "25"), (result["status"], result["value"]));
        var status = await agent.RequestAsync("STATUS");
        Assert.Equal(("IDLE", "math_ops"), (status["state"], status["modules"]));
        var stop = await agent.RequestAsync("STOP module_id=math_ops");
        Assert.Equal(("STOP_OK", "IDLE"), (stop.Verb, stop["status"]));
    }
}
