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
    public async Task A_board_with_a_link_key_runs_modules_precompiled_with_its_settings_from_an_authenticated_peer()
    {
        await using var agent = await _boards.NewBoardAsync(o => o with { LinkKey = BoardFixture.LinkKey });
        var hello = await agent.AuthenticateAsync(BoardFixture.LinkKey);
        Assert.Equal(("wasm,aot", EmulatedTarget.AotTarget), (hello["modes"], hello["aot_target"]));
        Assert.Equal("LOAD_OK", (await agent.LoadAsync("m", Precompile(ModuleBuilder.Build("math_ops.c")))).Verb);
        Assert.Equal("START_OK", (await agent.RequestAsync("START module_id=m func=add args=\"a=10,b=15\"")).Verb);
        Assert.Equal("25", (await agent.ReadUntilAsync("RESULT"))["value"]);
    }

    [Fact]
    public async Task Precompiled_code_is_refused_where_not_allowed_and_garbage_elf_always()
    {
        await using var strict = await _boards.NewBoardAsync(o => o with { AllowPrecompiled = false, LinkKey = BoardFixture.LinkKey });
        Assert.Equal("wasm", (await strict.AuthenticateAsync(BoardFixture.LinkKey))["modes"]);
        var refused = await strict.LoadAsync("m", Precompile(ModuleBuilder.Build("math_ops.c")));
        Assert.Equal(("LOAD_ERR", "INVALID_MODULE"), (refused.Verb, refused["code"]));
        Assert.Contains("--allow-aot", refused["msg"], StringComparison.Ordinal);

        await using var open = await _boards.NewBoardAsync(o => o with { LinkKey = BoardFixture.LinkKey });
        await open.AuthenticateAsync(BoardFixture.LinkKey);
        var garbage = await open.LoadAsync("m", [0x7f, (byte)'E', (byte)'L', (byte)'F', 1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.Equal(("LOAD_ERR", "INVALID_MODULE"), (garbage.Verb, garbage["code"]));
        Assert.Contains("precompiled module does not fit", garbage["msg"], StringComparison.Ordinal);
    }

    /// <summary>Finding 1 of issue 14: native code from whoever can open the port. A board without a link key never runs it, on loopback too.</summary>
    [Fact]
    public async Task An_open_board_refuses_native_code_even_on_loopback()
    {
        await using var open = await _boards.NewBoardAsync();
        Assert.Equal(("wasm", "-"), ((await open.RequestAsync("HELLO proto=1"))["modes"], (await open.RequestAsync("HELLO proto=1"))["aot_target"]));
        var refused = await open.LoadAsync("m", Precompile(ModuleBuilder.Build("math_ops.c")));
        Assert.Equal(("LOAD_ERR", "INVALID_MODULE"), (refused.Verb, refused["code"]));
        Assert.Contains("link key", refused["msg"], StringComparison.Ordinal);
    }
}
