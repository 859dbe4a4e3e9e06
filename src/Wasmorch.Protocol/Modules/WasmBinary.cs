using System.Buffers;

namespace Wasmorch.Protocol.Modules;

/// <summary>
/// What a module asks of a board's memory at instantiation: defined memories and tables, counted and
/// summed, and how many of its memories are shared (the threads proposal's <c>shared</c> limits flag).
/// </summary>
public readonly record struct ModuleFootprint(int Memories, long MemoryPages, int Tables, long TableElements, int SharedMemories = 0);

/// <summary>
/// Reads what Wasmtime's API does not expose before instantiation: the memories and tables a module
/// defines (not imports) with their minimum sizes, summed over all of them, so that neither one big
/// memory nor a hundred small ones pass a board's limits. Pure and bounded; anything malformed reports
/// null and is left to Wasmtime's validator.
/// </summary>
public static class WasmBinary
{
    private const byte TableSectionId = 4;
    private const byte MemorySectionId = 5;

    /// <summary>Bit 1 of a memory's limits flags: the memory is shared between threads.</summary>
    private const byte SharedFlag = 2;

    public static ModuleFootprint? Footprint(ReadOnlySpan<byte> module)
    {
        if (module.Length < 8 || !module[..4].SequenceEqual("\0asm"u8))
        {
            return null;
        }
        var pos = 8;
        var footprint = new ModuleFootprint(0, 0, 0, 0);
        while (pos < module.Length)
        {
            var id = module[pos++];
            if (!TryReadLeb(module, ref pos, out var size) || size > (ulong)(module.Length - pos))
            {
                return null;
            }
            var end = pos + (int)size;
            if (id is MemorySectionId or TableSectionId)
            {
                var section = module[..end];
                if (!TryReadLeb(section, ref pos, out var count))
                {
                    return null;
                }
                for (ulong i = 0; i < count; i++)
                {
                    // A table type starts with its element type; a memory type is limits alone.
                    if (id == TableSectionId && pos++ >= end)
                    {
                        return null;
                    }
                    if (pos >= end)
                    {
                        return null;
                    }
                    var flags = section[pos++];
                    if (!TryReadLeb(section, ref pos, out var minimum) || ((flags & 1) != 0 && !TryReadLeb(section, ref pos, out _)))
                    {
                        return null;
                    }
                    var min = (long)Math.Min(minimum, int.MaxValue);
                    footprint = id == MemorySectionId
                        ? footprint with { Memories = footprint.Memories + 1, MemoryPages = footprint.MemoryPages + min, SharedMemories = footprint.SharedMemories + ((flags & SharedFlag) != 0 ? 1 : 0) }
                        : footprint with { Tables = footprint.Tables + 1, TableElements = footprint.TableElements + min };
                }
            }
            pos = end;
        }
        return footprint;
    }

    private const byte ImportSectionId = 2;

    /// <summary>The imports of a module as module::name with kind (0 func, 1 table, 2 memory, 3 global); null if unreadable.</summary>
    public static List<(string Module, string Name, byte Kind)>? Imports(ReadOnlySpan<byte> module)
    {
        if (module.Length < 8 || !module[..4].SequenceEqual("\0asm"u8))
        {
            return null;
        }
        var result = new List<(string, string, byte)>();
        var pos = 8;
        while (pos < module.Length)
        {
            var id = module[pos++];
            if (!TryReadLeb(module, ref pos, out var size) || size > (ulong)(module.Length - pos))
            {
                return null;
            }
            var end = pos + (int)size;
            if (id == ImportSectionId)
            {
                var section = module[..end];
                if (!TryReadLeb(section, ref pos, out var count))
                {
                    return null;
                }
                for (ulong i = 0; i < count; i++)
                {
                    if (!TryReadName(section, ref pos, out var from) || !TryReadName(section, ref pos, out var name) || pos >= end)
                    {
                        return null;
                    }
                    var kind = section[pos++];
                    // Skip the import's type: a type index, or a table/memory/global type.
                    switch (kind)
                    {
                        case 0 when TryReadLeb(section, ref pos, out _):
                            break;
                        case 1 when pos < end && (pos += 1) > 0 && TryReadLimits(section, ref pos):
                            break;
                        case 2 when TryReadLimits(section, ref pos):
                            break;
                        case 3 when pos + 1 < end:
                            pos += 2;
                            break;
                        default:
                            return null;
                    }
                    result.Add((from, name, kind));
                }
            }
            pos = end;
        }
        return result;
    }

    private const byte ExportSectionId = 7;

    /// <summary>The names of the functions a module exports, in its order (what START can call); null if it is not readable wasm.</summary>
    public static List<string>? FunctionExports(ReadOnlySpan<byte> module)
    {
        if (module.Length < 8 || !module[..4].SequenceEqual("\0asm"u8))
        {
            return null;
        }
        var result = new List<string>();
        var pos = 8;
        while (pos < module.Length)
        {
            var id = module[pos++];
            if (!TryReadLeb(module, ref pos, out var size) || size > (ulong)(module.Length - pos))
            {
                return null;
            }
            var end = pos + (int)size;
            if (id == ExportSectionId)
            {
                var section = module[..end];
                if (!TryReadLeb(section, ref pos, out var count))
                {
                    return null;
                }
                for (ulong i = 0; i < count; i++)
                {
                    // name, kind (0 a function), index.
                    if (!TryReadName(section, ref pos, out var name) || pos >= end)
                    {
                        return null;
                    }
                    var kind = section[pos++];
                    if (!TryReadLeb(section, ref pos, out _))
                    {
                        return null;
                    }
                    if (kind == 0)
                    {
                        result.Add(name);
                    }
                }
            }
            pos = end;
        }
        return result;
    }

    private const byte CustomSectionId = 0;

    /// <summary>
    /// The module without its custom sections (names, producers, target features, debug info: a
    /// device runs the same code without them); with <paramref name="keepNames"/> the <c>name</c>
    /// section stays (traps then name functions). Null when the module is not well-formed wasm.
    /// </summary>
    public static byte[]? StripCustomSections(ReadOnlySpan<byte> module, bool keepNames)
    {
        if (module.Length < 8 || !module[..4].SequenceEqual("\0asm"u8))
        {
            return null;
        }
        var kept = new ArrayBufferWriter<byte>(module.Length);
        kept.Write(module[..8]);
        var pos = 8;
        while (pos < module.Length)
        {
            var start = pos;
            var id = module[pos++];
            if (!TryReadLeb(module, ref pos, out var size) || size > (ulong)(module.Length - pos))
            {
                return null;
            }
            var end = pos + (int)size;
            if (id == CustomSectionId)
            {
                var namePos = pos;
                if (!TryReadName(module[..end], ref namePos, out var name))
                {
                    return null;
                }
                if (!keepNames || name != "name")
                {
                    pos = end;
                    continue;
                }
            }
            kept.Write(module[start..end]);
            pos = end;
        }
        return kept.WrittenSpan.ToArray();
    }

    private static bool TryReadLimits(ReadOnlySpan<byte> data, ref int pos)
    {
        if (pos >= data.Length)
        {
            return false;
        }
        var flags = data[pos++];
        return TryReadLeb(data, ref pos, out _) && ((flags & 1) == 0 || TryReadLeb(data, ref pos, out _));
    }

    private static bool TryReadName(ReadOnlySpan<byte> data, ref int pos, out string name)
    {
        name = string.Empty;
        if (!TryReadLeb(data, ref pos, out var length) || length > (ulong)(data.Length - pos))
        {
            return false;
        }
        name = System.Text.Encoding.UTF8.GetString(data.Slice(pos, (int)length));
        pos += (int)length;
        return true;
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
