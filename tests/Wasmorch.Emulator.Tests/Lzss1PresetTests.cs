using System.Globalization;
using System.Text.RegularExpressions;
using Wasmorch.Protocol.Modules;
using Wasmorch.Testing;

namespace Wasmorch.Emulator.Tests;

/// <summary>The lzss1 preset is one normative byte string: the firmware's C core holds exactly the C# bytes.</summary>
public sealed partial class Lzss1PresetTests
{
    [Fact]
    public void The_firmware_cores_preset_is_byte_for_byte_the_one_the_gateway_and_emulator_use()
    {
        var header = File.ReadAllText(Path.Combine(RepoPaths.Root, "firmware", "agent", "core", "wm_lzss_dict.h"));
        var declared = int.Parse(DeclaredLength().Match(header).Groups[1].Value, CultureInfo.InvariantCulture);
        var body = header[header.IndexOf('{', StringComparison.Ordinal)..];
        var bytes = HexByte().Matches(body).Select(m => byte.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(Lzss1Preset.Bytes.Length, declared);
        Assert.Equal(Lzss1Preset.Bytes.ToArray(), bytes);
    }

    [GeneratedRegex(@"#define WM_LZSS_DICT_LEN (\d+)u")]
    private static partial Regex DeclaredLength();

    [GeneratedRegex(@"0x([0-9a-f]{2})")]
    private static partial Regex HexByte();
}
