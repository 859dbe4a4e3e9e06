using Wasmorch.Protocol.Modules;

namespace Wasmorch.Protocol.Tests;

/// <summary>Issue 31, bug 5: the three module formats recognised exactly; anything else is no module.</summary>
public sealed class ModuleFormatTests
{
    public static TheoryData<string, byte[], ModuleFormat> Samples => new()
    {
        { "wasm", [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0], ModuleFormat.Wasm },
        { "wamr aot v3", [0, 0x61, 0x6f, 0x74, 3, 0, 0, 0, 9, 9], ModuleFormat.WamrAot },
        { "wasmtime cwasm", [0x7f, 0x45, 0x4c, 0x46, 2, 1, .. ".shstrtab\0.wasmtime.engine\0"u8.ToArray()], ModuleFormat.WasmtimePrecompiled },
        { "any other ELF", [0x7f, 0x45, 0x4c, 0x46, 2, 1, .. ".shstrtab\0.text\0"u8.ToArray()], ModuleFormat.Unknown },
        { "wamr aot of version 0", [0, 0x61, 0x6f, 0x74, 0, 0, 0, 0], ModuleFormat.Unknown },
        { "a wasm magic alone", [0, 0x61, 0x73, 0x6d], ModuleFormat.Unknown },
        { "a PNG", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], ModuleFormat.Unknown },
        { "nothing", [], ModuleFormat.Unknown },
    };

    [Theory]
    [MemberData(nameof(Samples))]
    public void Each_format_is_recognised_by_its_header_and_nothing_else_is(string what, byte[] bytes, ModuleFormat expected) =>
        Assert.Equal((what, expected), (what, ModuleFormats.Detect(bytes)));

    [Fact]
    public void Bytes_that_are_no_module_are_described_by_what_they_begin_with()
    {
        Assert.Equal(@"8 bytes beginning 0x89504e470d0a1a0a, not a module: a device runs wasm (\0asm), a Wasmtime precompiled module (.cwasm) or a WAMR AOT image (\0aot)",
            ModuleFormats.DescribeUnknown([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
        Assert.StartsWith("an ELF file that is no Wasmtime precompiled module, not a module", ModuleFormats.DescribeUnknown("\u007fELF\u0002"u8), StringComparison.Ordinal);
    }
}
