using System.Collections.Concurrent;
using System.Security.Cryptography;
using Wasmtime;

namespace Wasmorch.Emulator.Runtime;

/// <summary>
/// Machine code of the modules the boards of this process have compiled, by the SHA-256 of their
/// bytes: a module deployed to many emulated boards is compiled once (Cranelift, about 1 ms even
/// for a tiny module) and each further board deserializes it (about 35 µs), still as its own
/// module instance with its own checks. Bounded: past <see cref="MaxBytes"/> it starts over.
/// </summary>
internal sealed class CompiledModules
{
    public const long MaxBytes = 64L * 1024 * 1024;

    private readonly ConcurrentDictionary<string, byte[]> _code = new(StringComparer.Ordinal);
    private long _bytes;

    /// <summary>The module of <paramref name="wasm"/>, compiled by <paramref name="engine"/> or from its earlier compile.</summary>
    public Module Load(Engine engine, string name, ReadOnlySpan<byte> wasm)
    {
        var key = Convert.ToHexString(SHA256.HashData(wasm));
        if (_code.TryGetValue(key, out var code))
        {
            return Module.Deserialize(engine, name, code);
        }
        var module = Module.FromBytes(engine, name, wasm);
        code = module.Serialize();
        if (Interlocked.Add(ref _bytes, code.Length) > MaxBytes)
        {
            _code.Clear();
            Interlocked.Exchange(ref _bytes, code.Length);
        }
        _code[key] = code;
        return module;
    }
}
