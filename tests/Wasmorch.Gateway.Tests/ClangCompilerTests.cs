using Wasmorch.Gateway.Build;
using Wasmorch.Protocol.HostApi;

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
