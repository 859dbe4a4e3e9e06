using Wasmorch.Gateway.Build;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Protocol.Modules;

namespace Wasmorch.Gateway.Tests;

public sealed class ClangCompilerTests
{
    [Fact]
    public async Task Compiles_against_the_embedded_sdk_header()
    {
        var compiler = new ClangCompiler("clang", TimeSpan.FromSeconds(30));
        var result = await compiler.CompileAsync("#include \"wasmorch.h\"\nWASMORCH_EXPORT(\"blink\") void blink(void) { gpio_toggle(WASMORCH_LED_PIN); }\n", "blink.c", CancellationToken.None);
        Assert.Equal("\0asm"u8.ToArray(), result.Module[..4]);
    }

    [Fact]
    public async Task Errors_carry_clangs_diagnostics_for_the_users_file()
    {
        var compiler = new ClangCompiler("clang", TimeSpan.FromSeconds(30));
        var error = await Assert.ThrowsAsync<GatewayException>(() => compiler.CompileAsync("int f(void) { return undefined_thing; }\n", "mine.c", CancellationToken.None));
        Assert.Equal(HostErrorCodes.CompileError, error.Code);
        Assert.StartsWith("mine.c:1:", error.Message, StringComparison.Ordinal);
        Assert.Contains("undefined_thing", error.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_compiler_is_explained()
    {
        var compiler = new ClangCompiler("/nonexistent/clang-99", TimeSpan.FromSeconds(30));
        var error = await Assert.ThrowsAsync<GatewayException>(() => compiler.CompileAsync("int x;", "x.c", CancellationToken.None));
        Assert.Equal(HostErrorCodes.CompileError, error.Code);
        Assert.Contains("apt-get install clang lld", error.Message, StringComparison.Ordinal);
    }

    private const string Arithmetic = """
        #include "wasmorch.h"
        static int square(int x) { return x * x; }
        WASMORCH_EXPORT("add") int add(int a, int b) { int t = 0; for (int i = 0; i < 3; i++) { t += square(i); } return a + b + t - 5; }
        """;

    /// <summary>clang at -O0 leaves what binaryen removes: the optimized module is smaller and computes the same.</summary>
    [Fact]
    public async Task Wasm_opt_shrinks_the_linked_module_and_it_computes_the_same()
    {
        var compiler = new ClangCompiler("clang", TimeSpan.FromSeconds(60));
        var plain = await compiler.CompileAsync(Arithmetic, "a.c", CancellationToken.None, BuildOptions.Seed with { OptLevel = "0" });
        var optimized = await compiler.CompileAsync(Arithmetic, "a.c", CancellationToken.None, BuildOptions.Seed with { OptLevel = "0", WasmOpt = true });
        Assert.Null(plain.OptimizedSize);
        Assert.Equal(plain.LinkedSize, optimized.LinkedSize);
        Assert.True(optimized.OptimizedSize < optimized.LinkedSize, $"wasm-opt left {optimized.OptimizedSize} of {optimized.LinkedSize} bytes");
        Assert.True(optimized.Module.Length < plain.Module.Length, $"{optimized.Module.Length} optimized vs {plain.Module.Length} plain");
        Assert.Equal(optimized.Module, WasmBinary.StripCustomSections(optimized.Module, keepNames: false));
        Assert.Equal(25, Add(optimized.Module, 10, 15));
        Assert.Equal(25, Add(plain.Module, 10, 15));
    }

    /// <summary>
    /// Without wasm_opt no wasm-opt runs, even installed (clang 14's driver runs one after an
    /// optimized link when it finds it on PATH, dropping the name section); with it, -g keeps names.
    /// </summary>
    [Theory]
    [InlineData("3", false)]
    [InlineData("0", true)]
    [InlineData("3", true)]
    public async Task The_name_section_is_kept_when_asked_whether_or_not_wasm_opt_runs(string optLevel, bool wasmOpt)
    {
        var compiler = new ClangCompiler("clang", TimeSpan.FromSeconds(60));
        var named = await compiler.CompileAsync(Arithmetic, "a.c", CancellationToken.None, BuildOptions.Seed with { OptLevel = optLevel, WasmOpt = wasmOpt, KeepNames = true });
        var bare = WasmBinary.StripCustomSections(named.Module, keepNames: false)!;
        Assert.True(named.Module.Length > bare.Length, "the name section should survive the build and the strip");
    }

    [Fact]
    public async Task A_link_error_names_the_users_file()
    {
        var compiler = new ClangCompiler("clang", TimeSpan.FromSeconds(30));
        var error = await Assert.ThrowsAsync<GatewayException>(() => compiler.CompileAsync("int nowhere(void);\n__attribute__((export_name(\"f\"))) int f(void) { return nowhere(); }\n", "mine.c", CancellationToken.None));
        Assert.Equal(HostErrorCodes.CompileError, error.Code);
        Assert.Contains("mine.o: undefined symbol: nowhere", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_wasm_opt_is_explained_and_nothing_is_built()
    {
        var compiler = new ClangCompiler("clang", TimeSpan.FromSeconds(30), wasmOpt: "/nonexistent/wasm-opt");
        var error = await Assert.ThrowsAsync<GatewayException>(() => compiler.CompileAsync(Arithmetic, "a.c", CancellationToken.None, BuildOptions.Seed with { WasmOpt = true }));
        Assert.Equal(HostErrorCodes.CompileError, error.Code);
        Assert.Contains("apt-get install binaryen", error.Message, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/wasm-opt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_build_with_wasm_opt_has_its_own_cache_key()
    {
        var compiler = new ClangCompiler("clang", TimeSpan.FromSeconds(30));
        var with = BuildOptions.Seed with { WasmOpt = true };
        Assert.NotEqual(BuildOptions.Seed.ToString(), with.ToString());
        Assert.Contains("wasm-opt=-Oz", with.ToString(), StringComparison.Ordinal);
        Assert.StartsWith(await compiler.IdentityAsync() + " + wasm-opt version", await compiler.IdentityAsync(with), StringComparison.Ordinal);
        Assert.Equal(await compiler.IdentityAsync(), await compiler.IdentityAsync(BuildOptions.Seed));
    }

    private static int Add(byte[] wasm, int a, int b)
    {
        using var engine = new Wasmtime.Engine();
        using var module = Wasmtime.Module.FromBytes(engine, "m", wasm);
        using var store = new Wasmtime.Store(engine);
        using var linker = new Wasmtime.Linker(engine);
        var instance = linker.Instantiate(store, module);
        return instance.GetFunction<int, int, int>("add")!(a, b);
    }

    [Theory]
    [InlineData("../../etc/passwd.c")]
    [InlineData("/abs.c")]
    [InlineData("noext")]
    [InlineData(".hidden.c")]
    public async Task Source_names_with_paths_are_refused(string name)
    {
        var compiler = new ClangCompiler("clang", TimeSpan.FromSeconds(30));
        var error = await Assert.ThrowsAsync<GatewayException>(() => compiler.CompileAsync("int x;", name, CancellationToken.None));
        Assert.Equal(HostErrorCodes.BadRequest, error.Code);
    }
}
