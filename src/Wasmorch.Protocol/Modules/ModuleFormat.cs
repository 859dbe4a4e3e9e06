namespace Wasmorch.Protocol.Modules;

/// <summary>What a module's bytes are: the three formats a device may run, or none of them.</summary>
public enum ModuleFormat
{
    /// <summary>Not a module: neither of the formats below.</summary>
    Unknown,

    /// <summary>WebAssembly binary (<c>\0asm</c>).</summary>
    Wasm,

    /// <summary>A Wasmtime precompiled module (<c>.cwasm</c>): an ELF file with Wasmtime's <c>.wasmtime.engine</c> section.</summary>
    WasmtimePrecompiled,

    /// <summary>A WAMR AOT image (<c>\0aot</c> and a format version).</summary>
    WamrAot,
}

/// <summary>Recognises <see cref="ModuleFormat"/>s exactly, so that arbitrary bytes are never taken for native code.</summary>
public static class ModuleFormats
{
    /// <summary>WAMR's AOT format versions we know of (wasm-micro-runtime's AOT_CURRENT_VERSION has been 1 to 5).</summary>
    private const uint MaxWamrAotVersion = 16;

    public static ModuleFormat Detect(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith("\0asm"u8) && bytes.Length >= 8)
        {
            return ModuleFormat.Wasm;
        }
        if (bytes.StartsWith("\0aot"u8) && bytes.Length >= 8 && System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]) is >= 1 and <= MaxWamrAotVersion)
        {
            return ModuleFormat.WamrAot;
        }
        if (bytes.StartsWith("\u007fELF"u8) && bytes.IndexOf(".wasmtime.engine\0"u8) >= 0)
        {
            return ModuleFormat.WasmtimePrecompiled;
        }
        return ModuleFormat.Unknown;
    }

    /// <summary>Why <paramref name="bytes"/> are no module: what they begin with, in words.</summary>
    public static string DescribeUnknown(ReadOnlySpan<byte> bytes)
    {
        var start = Convert.ToHexString(bytes[..Math.Min(8, bytes.Length)]).ToLowerInvariant();
        var seems = bytes.StartsWith("\u007fELF"u8) ? "an ELF file that is no Wasmtime precompiled module"
            : bytes.StartsWith("\0asm"u8) ? "a truncated wasm header"
            : bytes.StartsWith("\0aot"u8) ? "a WAMR AOT header of an unknown version"
            : $"{bytes.Length} bytes beginning {(start.Length == 0 ? "with nothing" : "0x" + start)}";
        return $"{seems}, not a module: a device runs wasm (\\0asm), a Wasmtime precompiled module (.cwasm) or a WAMR AOT image (\\0aot)";
    }
}
