using System.Globalization;
using System.IO.Hashing;

namespace Wasmorch.Protocol.Agent;

/// <summary>CRC32 as the protocol writes it: IEEE 802.3 (zlib), 8 hex digits, any case on input.</summary>
public static class Crc32Hex
{
    public static uint Compute(ReadOnlySpan<byte> data) => Crc32.HashToUInt32(data);

    public static string Format(uint crc) => crc.ToString("x8", CultureInfo.InvariantCulture);

    public static bool TryParse(ReadOnlySpan<char> text, out uint crc)
    {
        crc = 0;
        return text.Length == 8
            && uint.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out crc);
    }
}
