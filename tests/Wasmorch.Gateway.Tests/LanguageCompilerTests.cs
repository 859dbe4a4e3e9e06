using Wasmorch.Gateway.Build;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Protocol.Modules;
using Wasmorch.Testing;

namespace Wasmorch.Gateway.Tests;

/// <summary>
/// Issue 36: every language's compiler in the gateway's sandbox builds modules that keep the
/// board's rules (one 64 KiB page at most, imports only the natives of wasmorch.h, the capability
/// each import needs), so that the checks made before upload hold whatever the language.
/// </summary>
public sealed class LanguageCompilerTests
{
    private static readonly ModuleCompilers Compilers = ModuleCompilers.Create(new BuildTools(), TimeSpan.FromMinutes(2), Sandbox.Bubblewrap());

    private static async Task<byte[]> BuildAsync(string language, string file, IReadOnlyDictionary<string, string>? files = null)
    {
        var path = RepoPaths.Module(language, file);
        var source = new ModuleSource(await File.ReadAllTextAsync(path), file, files ?? new Dictionary<string, string>());
        var compiler = Compilers.For(SourceLanguage.Of(file, null));
        return (await compiler.CompileAsync(source, BuildOptions.Seed, CancellationToken.None)).Module;
    }

    public static TheoryData<string, string> Examples => new()
    {
        { "c", "math_ops.c" },
        { "cpp", "math.cc" },
        { "rust", "math.rs" },
        { "as", "math.ts" },
    };

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task Every_languages_module_has_one_page_of_memory_at_most_and_imports_only_wasmorch_natives(string language, string file)
    {
        var module = await BuildAsync(language, file);
        Assert.Equal("\0asm"u8.ToArray(), module[..4]);
        var footprint = WasmBinary.Footprint(module);
        Assert.NotNull(footprint);
        Assert.Equal(1, footprint.Value.Memories);
        Assert.Equal(1, footprint.Value.MemoryPages);
        Assert.Null(BoardLimits.Check(footprint.Value));
        Assert.All(WasmBinary.Imports(module) ?? [], i => Assert.True(i.Module == NativeImports.Module && NativeImports.ByName.ContainsKey(i.Name), $"{i.Module}::{i.Name}"));
        ModuleValidator.Check(module, null, "any board");
        // Nothing the device does not need: every custom section is stripped.
        Assert.Equal(WasmBinary.StripCustomSections(module, keepNames: false), module);
    }

    private static readonly string[] ThermostatCapabilities = ["events", "i2c0", "kv", "timer"];

    /// <summary>binaryen after every compiler: asc writes no target_features section, so wasm-opt is told its features.</summary>
    [Theory]
    [MemberData(nameof(Examples))]
    public async Task Every_languages_module_shrinks_with_wasm_opt_and_still_keeps_the_rules(string language, string file)
    {
        var source = new ModuleSource(await File.ReadAllTextAsync(RepoPaths.Module(language, file)), file);
        var compiler = Compilers.For(SourceLanguage.Of(file, null));
        var plain = await compiler.CompileAsync(source, BuildOptions.Seed, CancellationToken.None);
        var optimized = await compiler.CompileAsync(source, BuildOptions.Seed with { WasmOpt = true }, CancellationToken.None);
        Assert.NotNull(optimized.OptimizedSize);
        Assert.True(optimized.Module.Length <= plain.Module.Length, $"{optimized.Module.Length} > {plain.Module.Length}");
        ModuleValidator.Check(optimized.Module, null, "any board");
    }

    public static TheoryData<string, string, string?> Thermostats => new()
    {
        { "c", "thermostat.c", null },
        { "rust", "thermostat.rs", "tmp102.rs" },
        { "as", "thermostat.ts", "tmp102.ts" },
    };

    [Theory]
    [MemberData(nameof(Thermostats))]
    public async Task The_thermostat_needs_the_same_capabilities_in_every_language_and_is_refused_where_one_is_missing(string language, string file, string? beside)
    {
        var files = beside is null ? null : new Dictionary<string, string> { [beside] = await File.ReadAllTextAsync(RepoPaths.Module(language, beside)) };
        var module = await BuildAsync(language, file, files);
        var natives = (WasmBinary.Imports(module) ?? []).Select(i => i.Name);
        Assert.Equal(ThermostatCapabilities, Capabilities.Required(natives).ToArray());
        var error = Assert.Throws<GatewayException>(() => ModuleValidator.CheckCapabilities(module, new HashSet<string> { "events", "kv", "timer" }, null, "b1", "thermostat"));
        Assert.Equal(HostErrorCodes.MissingCapability, error.Code);
        Assert.Contains("needs capability 'i2c0'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rust_source_without_the_wasmorch_crate_is_told_how_to_link_it()
    {
        var source = new ModuleSource("#![no_std]\n#[no_mangle] pub extern \"C\" fn f() -> i32 { 1 }\n", "bare.rs");
        var error = await Assert.ThrowsAsync<GatewayException>(() => Compilers.For(SourceLanguage.Rust).CompileAsync(source, BuildOptions.Seed, CancellationToken.None));
        Assert.Equal(HostErrorCodes.CompileError, error.Code);
        Assert.Contains("add `use wasmorch as _;`", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_language_comes_from_the_extension_or_lang_and_an_unknown_one_is_refused()
    {
        Assert.Equal(SourceLanguage.Cpp, SourceLanguage.Of("m.cpp", null));
        Assert.Equal(SourceLanguage.Cpp, SourceLanguage.Of("m.cc", null));
        Assert.Equal(SourceLanguage.Rust, SourceLanguage.Of("m.rs", null));
        Assert.Equal(SourceLanguage.AssemblyScript, SourceLanguage.Of("m.ts", null));
        Assert.Equal(SourceLanguage.Rust, SourceLanguage.Of("m.txt", "rust"));
        Assert.Equal(HostErrorCodes.BadRequest, Assert.Throws<GatewayException>(() => SourceLanguage.Of("m.txt", null)).Code);
        Assert.Equal(HostErrorCodes.BadRequest, Assert.Throws<GatewayException>(() => SourceLanguage.Of("m.rs", "cobol")).Code);
    }
}
