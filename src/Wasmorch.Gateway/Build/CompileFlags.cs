namespace Wasmorch.Gateway.Build;

/// <summary>The seed's clang command for a board module: one 64 KiB page, 2 KiB stack first, no libc.</summary>
public static class CompileFlags
{
    public static readonly IReadOnlyList<string> Seed =
    [
        "--target=wasm32-unknown-unknown",
        "-O3",
        "-nostdlib",
        "-Wl,--no-entry",
        "-Wl,--initial-memory=65536",
        "-Wl,--max-memory=65536",
        "-Wl,--stack-first",
        "-Wl,-z,stack-size=2048",
    ];
}
