using Wasmorch.Protocol.Modules;

namespace Wasmorch.Protocol.Tests;

/// <summary>WasmBinary.FunctionExports: what the dashboard's start form offers (issue 34, item 3).</summary>
public sealed class WasmExportsTests
{
    private static readonly byte[] Header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

    private static byte[] Export(string name, byte kind, byte index)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(name);
        return [(byte)bytes.Length, .. bytes, kind, index];
    }

    private static byte[] ExportSection(params byte[][] exports)
    {
        byte[] body = [(byte)exports.Length, .. exports.SelectMany(e => e)];
        return [0x07, (byte)body.Length, .. body];
    }

    [Fact]
    public void The_functions_are_listed_in_order_and_the_memory_and_globals_left_out()
    {
        byte[] module = [.. Header, .. ExportSection(Export("memory", 2, 0), Export("add", 0, 1), Export("__heap_base", 3, 0), Export("sub", 0, 2))];
        Assert.Equal(["add", "sub"], WasmBinary.FunctionExports(module)!);
    }

    [Fact]
    public void A_module_without_an_export_section_exports_nothing() => Assert.Empty(WasmBinary.FunctionExports(Header)!);

    [Theory]
    [InlineData(new byte[] { 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x07, 0x05, 0x01, 0x09, 0x61 })] // a name longer than its section
    [InlineData(new byte[] { 0x7f, 0x45, 0x4c, 0x46, 0x01, 0x00, 0x00, 0x00 })] // not wasm (an AOT image)
    public void A_module_it_cannot_read_is_null(byte[] module) => Assert.Null(WasmBinary.FunctionExports(module));
}
