namespace Wasmorch.Emulator.Runtime;

/// <summary>
/// Reads the one fact Wasmtime's API does not expose: the minimum size of a memory the module
/// defines without exporting it. Pure and bounded; anything malformed reports "unknown" (-1) and
/// is left to Wasmtime's validator.
/// </summary>
public static class WasmBinary
{
    private const byte MemorySectionId = 5;

    /// <summary>Largest minimum, in 64 KiB pages, of the memories the module defines; 0 if none; -1 if unreadable.</summary>
    public static long DefinedMemoryMinimumPages(ReadOnlySpan<byte> module)
    {
        if (module.Length < 8 || !module[..4].SequenceEqual("\0asm"u8))
        {
            return -1;
        }
        var pos = 8;
        long largest = 0;
        while (pos < module.Length)
        {
            var id = module[pos++];
            if (!TryReadLeb(module, ref pos, out var size) || size > (ulong)(module.Length - pos))
            {
                return -1;
            }
            var end = pos + (int)size;
            if (id == MemorySectionId)
            {
                var section = module[..end];
                if (!TryReadLeb(section, ref pos, out var count))
                {
                    return -1;
                }
                for (ulong i = 0; i < count; i++)
                {
                    if (pos >= end)
                    {
                        return -1;
                    }
                    var flags = section[pos++];
                    if (!TryReadLeb(section, ref pos, out var minimum) || ((flags & 1) != 0 && !TryReadLeb(section, ref pos, out _)))
                    {
                        return -1;
                    }
                    largest = Math.Max(largest, (long)Math.Min(minimum, int.MaxValue));
                }
            }
            pos = end;
        }
        return largest;
    }

    private static bool TryReadLeb(ReadOnlySpan<byte> data, ref int pos, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64 && pos < data.Length; shift += 7)
        {
            var b = data[pos++];
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                return true;
            }
        }
        return false;
    }
}
