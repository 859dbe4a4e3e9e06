using Wasmorch.Testing;

namespace Wasmorch.Emulator.Tests;

[Collection("boards")]
public sealed class JobTests
{
    private readonly BoardFixture _boards;

    public JobTests(BoardFixture boards) => _boards = boards;

    private static byte[] MathOps => ModuleBuilder.Build("math_ops.c");

    [Fact]
    public async Task Seed_sequence_load_then_start_add_gives_25()
    {
        await using var agent = await _boards.NewBoardAsync();
        var loaded = await agent.LoadAsync("math_ops", MathOps);
        Assert.Equal("LOAD_OK", loaded.Verb);
        Assert.Equal(MathOps.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), loaded["size"]);

        var started = await agent.RequestAsync("START module_id=math_ops func=add args=\"a=10,b=15\"");
        Assert.Equal("START_OK", started.Verb);
        var result = await agent.ReadUntilAsync("RESULT");
        Assert.Equal(started["job"], result["job"]);
        Assert.Equal("OK", result["status"]);
        Assert.Equal("25", result["value"]);
        Assert.Equal("i32", result["type"]);
        Assert.True(result.TryGetInt64("elapsed_us", out _));
    }

    [Fact]
    public async Task A_job_that_fails_inside_the_agent_ends_with_a_result_and_the_board_is_idle_again()
    {
        var (agent, board, _) = await _boards.NewBoardWithStateAsync();
        await using var _ = agent;
        Assert.Equal("LOAD_OK", (await agent.LoadAsync("math_ops", MathOps)).Verb);
        board.Runner.InvokeExport = static (_, _) => throw new KeyNotFoundException("planted failure");

        var started = await agent.RequestAsync("START module_id=math_ops func=add args=\"1,2\"");
        Assert.Equal("START_OK", started.Verb);
        var result = await agent.ReadUntilAsync("RESULT");
        Assert.Equal(started["job"], result["job"]);
        Assert.Equal("TRAP", result["status"]);
        Assert.Equal("agent: KeyNotFoundException: planted failure", result["msg"]);
        Assert.Equal("IDLE", (await agent.RequestAsync("STATUS"))["state"]);

        board.Runner.InvokeExport = static (function, args) => function.Invoke(args);
        Assert.Equal("START_OK", (await agent.RequestAsync("START module_id=math_ops func=add args=\"1,2\"")).Verb);
        Assert.Equal("3", (await agent.ReadUntilAsync("RESULT"))["value"]);
    }

    [Theory]
    [InlineData("fib", "n=90", "2880067194370816120", "i64")]
    [InlineData("add_f64", "1.5,2.25", "3.75", "f64")]
    [InlineData("scale_f32", "2.5,4", "10", "f32")]
    [InlineData("add_i64", "9000000000,1", "9000000001", "i64")]
    [InlineData("sub", "a=-5,b=0x10", "-21", "i32")]
    public async Task Arguments_and_results_follow_the_signature(string func, string args, string value, string type)
    {
        await using var agent = await _boards.NewBoardAsync();
        Assert.Equal("LOAD_OK", (await agent.LoadAsync("m", MathOps)).Verb);
        Assert.Equal("START_OK", (await agent.RequestAsync($"START module_id=m func={func} args=\"{args}\"")).Verb);
        var result = await agent.ReadUntilAsync("RESULT");
        Assert.Equal(("OK", value, type), (result["status"], result["value"], result["type"]));
    }

    [Theory]
    [InlineData("START module_id=nothing func=add", "NO_MODULE")]
    [InlineData("START module_id=m func=nope", "NO_FUNC")]
    [InlineData("START module_id=m func=add args=\"1\"", "BAD_ARGS")]
    [InlineData("START module_id=m func=add args=\"1,2,3\"", "BAD_ARGS")]
    [InlineData("START module_id=m func=add args=\"1,9999999999\"", "BAD_ARGS")]
    [InlineData("START module_id=m func=add args=\"1,x\"", "BAD_ARGS")]
    public async Task Immediate_errors_are_a_result_without_job(string command, string status)
    {
        await using var agent = await _boards.NewBoardAsync();
        Assert.Equal("LOAD_OK", (await agent.LoadAsync("m", MathOps)).Verb);
        var reply = await agent.RequestAsync(command);
        Assert.Equal("RESULT", reply.Verb);
        Assert.Equal(status, reply["status"]);
        Assert.False(reply.Has("job"));
        Assert.False(string.IsNullOrEmpty(reply["msg"]));
    }

    [Theory]
    [InlineData("unreachable", "", "unreachable executed")]
    [InlineData("div_zero", "7", "integer divide by zero")]
    [InlineData("out_of_bounds", "", "out of bounds memory access")]
    [InlineData("stack_overflow", "", "call stack exhausted")]
    [InlineData("bad_pin", "", "gpio pin 99 does not exist")]
    public async Task Traps_end_the_job_with_status_trap(string func, string args, string message)
    {
        await using var agent = await _boards.NewBoardAsync();
        Assert.Equal("LOAD_OK", (await agent.LoadAsync("faults", ModuleBuilder.Build("faults.c"))).Verb);
        Assert.Equal("START_OK", (await agent.RequestAsync($"START module_id=faults func={func} args=\"{args}\"")).Verb);
        var result = await agent.ReadUntilAsync("RESULT");
        Assert.Equal("TRAP", result["status"]);
        Assert.Contains(message, result["msg"], StringComparison.Ordinal);
        // The board is still healthy afterwards.
        Assert.Equal("IDLE", (await agent.RequestAsync("STATUS"))["state"]);
    }

    [Fact]
    public async Task Status_and_stop_are_answered_while_a_job_runs()
    {
        await using var agent = await _boards.NewBoardAsync();
        Assert.Equal("LOAD_OK", (await agent.LoadAsync("toggle_forever", ModuleBuilder.Build("toggle_forever.c"))).Verb);
        var started = await agent.RequestAsync("START module_id=toggle_forever func=toggle_forever args=\"pin=0,period_ms=5\"");
        Assert.Equal("START_OK", started.Verb);

        var first = await agent.RequestAsync("STATUS");
        Assert.Equal(("RUNNING", "toggle_forever", started["job"]), (first["state"], first["module"], first["job"]));
        await Task.Delay(100);
        var second = await agent.RequestAsync("STATUS");
        Assert.True(long.Parse(second["gpio_writes"]!, System.Globalization.CultureInfo.InvariantCulture) > long.Parse(first["gpio_writes"]!, System.Globalization.CultureInfo.InvariantCulture), "GPIO should be toggling");

        var busy = await agent.RequestAsync("START module_id=toggle_forever func=run");
        Assert.Equal(("RESULT", "BUSY"), (busy.Verb, busy["status"]));
        var reload = await agent.RequestAsync("LOAD module_id=toggle_forever size=10 crc32=00000000");
        Assert.Equal(("ERR", "BUSY"), (reload.Verb, reload["code"]));

        // The job's RESULT is asynchronous: it may come before or after STOP_OK (protocol §3).
        await agent.SendLineAsync("STOP module_id=toggle_forever");
        var lines = new[] { await agent.ReadParsedAsync(TimeSpan.FromSeconds(2)), await agent.ReadParsedAsync(TimeSpan.FromSeconds(2)) };
        var stop = Assert.Single(lines, l => l.Verb == "STOP_OK");
        Assert.Equal("PENDING", stop["status"]);
        var result = Assert.Single(lines, l => l.Verb == "RESULT");
        Assert.Equal(("STOPPED", started["job"]), (result["status"], result["job"]));
        Assert.True(long.Parse(result["value"]!, System.Globalization.CultureInfo.InvariantCulture) > 0);

        var idle = await agent.RequestAsync("STOP module_id=toggle_forever");
        Assert.Equal(("STOP_OK", "IDLE"), (idle.Verb, idle["status"]));
        var unknown = await agent.RequestAsync("STOP module_id=ghost");
        Assert.Equal(("ERR", "NO_MODULE"), (unknown.Verb, unknown["code"]));
    }

    [Fact]
    public async Task A_job_that_ignores_stop_is_terminated_after_the_grace_period()
    {
        await using var agent = await _boards.NewBoardAsync(o => o with { StopGracePeriod = TimeSpan.FromMilliseconds(100) });
        Assert.Equal("LOAD_OK", (await agent.LoadAsync("faults", ModuleBuilder.Build("faults.c"))).Verb);
        Assert.Equal("START_OK", (await agent.RequestAsync("START module_id=faults func=spin")).Verb);
        Assert.Equal("PENDING", (await agent.RequestAsync("STOP module_id=faults"))["status"]);
        var result = await agent.ReadUntilAsync("RESULT", TimeSpan.FromSeconds(3));
        Assert.Equal("STOPPED", result["status"]);
        Assert.Contains("grace period", result["msg"], StringComparison.Ordinal);
        Assert.Equal("IDLE", (await agent.RequestAsync("STATUS"))["state"]);
    }
}
