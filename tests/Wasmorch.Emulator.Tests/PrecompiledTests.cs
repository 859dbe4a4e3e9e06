using Wasmorch.WasmtimeTarget;
using Wasmorch.Emulator.Runtime;
using Wasmorch.Testing;
using Wasmtime;

namespace Wasmorch.Emulator.Tests;

[Collection("boards")]
public sealed class PrecompiledTests
{
    private readonly BoardFixture _boards;

    public PrecompiledTests(BoardFixture boards) => _boards = boards;

    private static byte[] Precompile(byte[] wasm)
    {
        using var config = EmulatedTarget.CreateConfig();
        using var engine = new Engine(config);
        using var module = Module.FromBytes(engine, "m", wasm);
        return module.Serialize();
    }

    [Fact]
    public async Task A_loopback_board_runs_modules_precompiled_with_its_settings()
    {
        await using var agent = await _boards.NewBoardAsync();
        var hello = await agent.RequestAsync("HELLO proto=1");
        Assert.Equal(("wasm,aot", EmulatedTarget.AotTarget), (hello["modes"], hello["aot_target"]));
        Assert.Equal("LOAD_OK", (await agent.LoadAsync("m", Precompile(ModuleBuilder.Build("math_ops.c")))).Verb);
        Assert.Equal("START_OK", (await agent.RequestAsync("START module_id=m func=add args=\"a=10,b=15\"")).Verb);
        Assert.Equal("25", (await agent.ReadUntilAsync("RESULT"))["value"]);
    }

    [Fact]
    public async Task Precompiled_code_is_refused_where_not_allowed_and_garbage_elf_always()
    {
        await using var strict = await _boards.NewBoardAsync(o => o with { AllowPrecompiled = false });
        Assert.Equal("wasm", (await strict.RequestAsync("HELLO proto=1"))["modes"]);
        var refused = await strict.LoadAsync("m", Precompile(ModuleBuilder.Build("math_ops.c")));
        Assert.Equal(("LOAD_ERR", "INVALID_MODULE"), (refused.Verb, refused["code"]));
        Assert.Contains("--allow-aot", refused["msg"], StringComparison.Ordinal);

        await using var open = await _boards.NewBoardAsync();
        var garbage = await open.LoadAsync("m", [0x7f, (byte)'E', (byte)'L', (byte)'F', 1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.Equal(("LOAD_ERR", "INVALID_MODULE"), (garbage.Verb, garbage["code"]));
        Assert.Contains("precompiled module does not fit", garbage["msg"], StringComparison.Ordinal);
    }
}
