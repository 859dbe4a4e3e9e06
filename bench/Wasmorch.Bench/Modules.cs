using Wasmtime;

namespace Wasmorch.Bench;

public static class Modules
{
    /// <summary>A valid module of about <paramref name="size"/> bytes: a data segment of that length.</summary>
    public static byte[] OfSize(int size)
    {
        var data = string.Concat(Enumerable.Range(0, size - 64).Select(i => $"\\{(i * 7919) & 0xff:x2}"));
        return Module.ConvertText($"(module (memory (export \"memory\") 1 1) (data (i32.const 0) \"{data}\") (func (export \"add\") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))");
    }

    /// <summary>add, and self_test returning 0: what a rollout's check runs.</summary>
    public static readonly byte[] WithSelfTest = Module.ConvertText(
        "(module (memory (export \"memory\") 1 1) (func (export \"add\") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))) (func (export \"self_test\") (result i32) (i32.const 0)))");

    public static readonly byte[] Add = Module.ConvertText(
        "(module (memory (export \"memory\") 1 1) (func (export \"add\") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1))))");
}
