using Wasmorch.Testing;

namespace Wasmorch.Emulator.Tests;

/// <summary>Finding 12 of issue 14: a board's limits held for the largest memory only; now for all memories and tables together.</summary>
[Collection("boards")]
public sealed class BoardLimitTests
{
    private readonly BoardFixture _boards;

    public BoardLimitTests(BoardFixture boards) => _boards = boards;

    private static byte[] Wat(string text) => Wasmtime.Module.ConvertText(text);

    [Fact]
    public async Task A_hundred_small_memories_are_refused()
    {
        await using var agent = await _boards.NewBoardAsync();
        var module = Wat("(module " + string.Concat(Enumerable.Repeat("(memory 1) ", 100)) + ")");
        var refused = await agent.LoadAsync("m", module);
        Assert.Equal(("LOAD_ERR", "INVALID_MODULE"), (refused.Verb, refused["code"]));
        Assert.Equal("module defines 100 memories; this board gives one", refused["msg"]);
    }

    [Fact]
    public async Task A_shared_memory_is_refused_at_load_not_at_start()
    {
        await using var agent = await _boards.NewBoardAsync();
        var refused = await agent.LoadAsync("m", Wat("(module (memory 1 1 shared) (func (export \"f\") (result i32) (i32.atomic.load (i32.const 0))))"));
        Assert.Equal(("LOAD_ERR", "INVALID_MODULE"), (refused.Verb, refused["code"]));
        Assert.Equal("module's memory is shared (the threads proposal's 'shared' limits flag); this board gives one unshared memory: build without threads or shared memory", refused["msg"]);
    }

    [Fact]
    public async Task A_ten_million_entry_table_is_refused()
    {
        await using var agent = await _boards.NewBoardAsync();
        var refused = await agent.LoadAsync("m", Wat("(module (table 10000000 funcref) (func (export \"f\")))"));
        Assert.Equal(("LOAD_ERR", "NO_MEMORY"), (refused.Verb, refused["code"]));
        Assert.Equal("module's tables need 10000000 elements; this board gives 4096", refused["msg"]);
    }

    [Fact]
    public async Task A_table_grown_past_the_limit_at_run_time_fails_inside_the_module()
    {
        await using var agent = await _boards.NewBoardAsync();
        var module = Wat("(module (table 1 funcref) (func (export \"grow\") (result i32) (table.grow 0 (ref.null func) (i32.const 100000))))");
        Assert.Equal("LOAD_OK", (await agent.LoadAsync("m", module)).Verb);
        Assert.Equal("START_OK", (await agent.RequestAsync("START module_id=m func=grow")).Verb);
        // table.grow answers -1 when the store's limit refuses.
        Assert.Equal("-1", (await agent.ReadUntilAsync("RESULT"))["value"]);
    }
}
