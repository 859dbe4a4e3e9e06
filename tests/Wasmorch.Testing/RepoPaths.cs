namespace Wasmorch.Testing;

/// <summary>Finds the repository from a test's output directory, so tests use the real modules and CLI build.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Module(string name) => Path.Combine(Root, "modules", "c", name);

    /// <summary>An example in another language: modules/cpp, modules/rust, modules/as.</summary>
    public static string Module(string language, string name) => Path.Combine(Root, "modules", language, name);

    /// <summary>The transcript vectors both agents replay (docs/protocol-vectors.txt).</summary>
    public static string ProtocolVectors => Path.Combine(Root, "docs", "protocol-vectors.txt");

    public static string IncludeDir => Path.Combine(Root, "modules", "include");

    /// <summary>The CLI built in the same configuration as the tests (the test projects reference it).</summary>
    public static string CliDll
    {
        get
        {
            var config = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            var path = Path.Combine(Root, "src", "Wasmorch.Cli", "bin", config, "net10.0", "wasmorch.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException($"build the CLI first: {path} is missing");
        }
    }

    /// <summary>
    /// How to run the CLI: the executable named by WASMORCH_CLI (./test.sh sets it to the Native AOT
    /// build, the form users run), else <c>dotnet</c> with the framework-dependent build of this tree.
    /// </summary>
    public static (string FileName, string[] LeadingArgs) Cli =>
        Environment.GetEnvironmentVariable("WASMORCH_CLI") is { Length: > 0 } published
            ? (published, [])
            : ("dotnet", [CliDll]);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Wasmorch.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new DirectoryNotFoundException("Wasmorch.sln not found above " + AppContext.BaseDirectory);
    }
}
