using System.Collections.Concurrent;
using System.Diagnostics;

namespace Wasmorch.Testing;

/// <summary>Compiles the repository's C modules with the real clang and the seed's flags, once per test run.</summary>
public static class ModuleBuilder
{
    private static readonly ConcurrentDictionary<string, Lazy<byte[]>> Cache = new();

    public static byte[] Build(string sourceFile) =>
        Cache.GetOrAdd(sourceFile, f => new Lazy<byte[]>(() => Compile(RepoPaths.Module(f)))).Value;

    public static byte[] CompileText(string source)
    {
        var dir = Directory.CreateTempSubdirectory("wasmorch-test-");
        try
        {
            var path = Path.Combine(dir.FullName, "m.c");
            File.WriteAllText(path, source);
            return Compile(path);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    private static byte[] Compile(string path)
    {
        var output = Path.Combine(Path.GetTempPath(), $"wasmorch-test-{Guid.NewGuid():n}.wasm");
        var info = new ProcessStartInfo("clang")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var arg in new[]
        {
            "--target=wasm32-unknown-unknown", "-O3", "-nostdlib", "-Wl,--no-entry",
            "-Wl,--initial-memory=65536", "-Wl,--max-memory=65536", "-Wl,--stack-first", "-Wl,-z,stack-size=2048",
            "-I", RepoPaths.IncludeDir, "-o", output, path,
        })
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"clang failed on {path}: {stderr}");
        }
        try
        {
            return File.ReadAllBytes(output);
        }
        finally
        {
            File.Delete(output);
        }
    }
}
