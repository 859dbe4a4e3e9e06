using Wasmorch.Protocol.Modules;

namespace Wasmorch.Protocol.Tests;

/// <summary>WasmBinary.StripCustomSections: what a build leaves out of a module (issue 19, smaller modules).</summary>
public sealed class WasmStripTests
{
    private static readonly byte[] Header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

    /// <summary>A type section: one type, () → ().</summary>
    private static readonly byte[] TypeSection = [0x01, 0x04, 0x01, 0x60, 0x00, 0x00];

    private static byte[] Custom(string name, params byte[] payload)
    {
        var nameBytes = System.Text.Encoding.UTF8.GetBytes(name);
        byte[] body = [(byte)nameBytes.Length, .. nameBytes, .. payload];
        return [0x00, (byte)body.Length, .. body];
    }

    [Fact]
    public void Every_custom_section_goes_and_every_other_section_stays_byte_for_byte()
    {
        byte[] module = [.. Header, .. Custom("producers", 1, 2, 3), .. TypeSection, .. Custom("name", 9, 9), .. Custom("target_features", 0)];
        Assert.Equal([.. Header, .. TypeSection], WasmBinary.StripCustomSections(module, keepNames: false)!);
    }

    [Fact]
    public void With_keep_names_the_name_section_stays_where_it_was()
    {
        byte[] module = [.. Header, .. Custom("producers", 1), .. TypeSection, .. Custom("name", 9, 9)];
        Assert.Equal([.. Header, .. TypeSection, .. Custom("name", 9, 9)], WasmBinary.StripCustomSections(module, keepNames: true)!);
    }

    [Theory]
    [InlineData(new byte[] { 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x09, 0x01 })] // section longer than the module
    [InlineData(new byte[] { 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x00, 0x02, 0x05, 0x61 })] // custom name longer than its section
    [InlineData(new byte[] { 0x7f, 0x45, 0x4c, 0x46, 0x01, 0x00, 0x00, 0x00 })] // not wasm
    public void A_malformed_module_is_null_not_a_guess(byte[] module) => Assert.Null(WasmBinary.StripCustomSections(module, keepNames: false));
}
