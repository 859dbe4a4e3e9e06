using System.Text;
using Wasmorch.Protocol.Modules;
using Wasmtime;

namespace Wasmorch.Emulator.Runtime;

/// <summary>
/// Every pointer a capability native takes is checked here, in one place: an address and length
/// lie inside the module's linear memory, or the native answers <see cref="NativeAbi.Fault"/>
/// (never a trap, never a read outside the module).
/// </summary>
internal static class LinearMemory
{
    /// <summary>The bytes at [address, address + length), or false when any lies outside the memory (or length is negative or over <paramref name="max"/>).</summary>
    public static bool TryGetSpan(Caller caller, int address, int length, int max, out Span<byte> span, out int code)
    {
        span = default;
        code = 0;
        if (length < 0 || length > max)
        {
            code = NativeAbi.Invalid;
            return false;
        }
        var memory = caller.GetMemory("memory");
        if (memory is null || address < 0 || (long)address + length > memory.GetLength())
        {
            code = NativeAbi.Fault;
            return false;
        }
        span = length == 0 ? [] : memory.GetSpan(address, length);
        return true;
    }

    /// <summary>
    /// A NUL-terminated name (a topic, a key) of at most <paramref name="max"/> characters that
    /// <paramref name="valid"/> accepts; null with Fault (no NUL inside the memory) or Invalid.
    /// </summary>
    public static string? ReadName(Caller caller, int address, int max, Func<string, bool> valid, out int code)
    {
        code = 0;
        var memory = caller.GetMemory("memory");
        if (memory is null || address < 0 || address >= memory.GetLength())
        {
            code = NativeAbi.Fault;
            return null;
        }
        var window = memory.GetSpan(address, (int)Math.Min(max + 1, memory.GetLength() - address));
        var end = window.IndexOf((byte)0);
        if (end < 0)
        {
            code = window.Length > max ? NativeAbi.Invalid : NativeAbi.Fault;
            return null;
        }
        var name = Encoding.ASCII.GetString(window[..end]);
        if (!valid(name))
        {
            code = NativeAbi.Invalid;
            return null;
        }
        return name;
    }
}
