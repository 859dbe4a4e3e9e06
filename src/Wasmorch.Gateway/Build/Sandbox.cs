namespace Wasmorch.Gateway.Build;

/// <summary>
/// Runs build tools where a hostile source cannot reach the gateway's files: bubblewrap with only
/// /usr (read-only) and the scratch directory visible, no network, a fresh /tmp, and prlimit caps
/// on memory and output size. clang's <c>#include "/etc/passwd"</c> or <c>.incbin</c> then finds
/// nothing to read, and a macro bomb hits the memory cap or the deadline.
/// </summary>
public sealed class Sandbox
{
    public const long MemoryBytes = 2L * 1024 * 1024 * 1024;
    public const long MaxOutputFileBytes = 16L * 1024 * 1024;

    private readonly string _bwrap;

    private Sandbox(string bwrap) => _bwrap = bwrap;

    /// <summary>No sandbox: tools run as the gateway's user, seeing what it sees (only for trusted hosts).</summary>
    public static Sandbox? Off => null;

    public static Sandbox Bubblewrap(string bwrap = "bwrap") => new(bwrap);

    public static string Missing(string bwrap) =>
        $"the compile sandbox ({bwrap}, bubblewrap) is not available: apt-get install bubblewrap, " +
        "or set [build] sandbox = \"off\" in wasmorch.toml to compile without it (only where every host is trusted)";

    /// <summary>The command line that runs <paramref name="tool"/> with <paramref name="args"/> in <paramref name="workDir"/>, sandboxed.</summary>
    /// <param name="readOnly">Directories outside /usr the tool needs to read (a compiler installed by npm), shown read-only at their own path.</param>
    /// <param name="capData">
    /// Cap the data segment (RLIMIT_DATA) instead of the address space: Node's V8 reserves many GiB of
    /// address space it never touches (wasm guard regions), so an address-space cap stops it from
    /// starting; a data cap still stops a compiler that allocates without end.
    /// </param>
    public (string File, IReadOnlyList<string> Args) Wrap(string tool, IEnumerable<string> args, string workDir, IEnumerable<string>? readOnly = null, bool capData = false)
    {
        List<string> argv =
        [
            "--ro-bind", "/usr", "/usr",
            "--ro-bind-try", "/lib", "/lib",
            "--ro-bind-try", "/lib64", "/lib64",
            "--ro-bind-try", "/bin", "/bin",
            "--proc", "/proc",
            "--dev", "/dev",
            "--tmpfs", "/tmp",
            "--bind", workDir, "/work",
            "--chdir", "/work",
            "--unshare-all",
            "--die-with-parent",
            "--new-session",
            "--clearenv",
            "--setenv", "PATH", "/usr/bin:/bin",
            "--setenv", "HOME", "/tmp",
        ];
        // A tool installed outside /usr (a locally built wamrc) is made visible, read-only.
        var toolPath = Path.IsPathRooted(tool) ? tool : null;
        if (toolPath is not null && !toolPath.StartsWith("/usr/", StringComparison.Ordinal))
        {
            var dir = Path.GetDirectoryName(toolPath)!;
            argv.AddRange(["--ro-bind", dir, dir]);
        }
        foreach (var dir in readOnly ?? [])
        {
            argv.AddRange(["--ro-bind", dir, dir]);
        }
        argv.AddRange(["--", "/usr/bin/prlimit", capData ? $"--data={MemoryBytes}" : $"--as={MemoryBytes}", $"--fsize={MaxOutputFileBytes}", "--nofile=256", "--", tool]);
        argv.AddRange(args);
        return (_bwrap, argv);
    }

    public string Tool => _bwrap;
}
