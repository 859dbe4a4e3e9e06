using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Build;

/// <summary>
/// A language the gateway builds modules from: its <c>--lang</c> name, the file extensions that
/// mean it, and what to install when its toolchain is missing. A source's language is its
/// extension's unless the request names one (<see cref="BuildOptions.Lang"/>).
/// </summary>
public sealed record SourceLanguage(string Name, string Title, IReadOnlyList<string> Extensions)
{
    public static SourceLanguage C { get; } = new("c", "C", [".c"]);

    public static SourceLanguage Cpp { get; } = new("cpp", "C++", [".cc", ".cpp", ".cxx"]);

    public static SourceLanguage Rust { get; } = new("rust", "Rust", [".rs"]);

    public static SourceLanguage AssemblyScript { get; } = new("as", "AssemblyScript", [".ts"]);

    public static IReadOnlyList<SourceLanguage> All { get; } = [C, Cpp, Rust, AssemblyScript];

    /// <summary>The names <c>--lang</c> takes, for messages.</summary>
    public static string Names => string.Join(", ", All.Select(l => l.Name));

    /// <summary>Every extension that names a language, for messages.</summary>
    public static string AllExtensions => string.Join(", ", All.SelectMany(l => l.Extensions));

    /// <summary>The language <paramref name="lang"/> names (null: none named), or a BAD_REQUEST naming the known ones.</summary>
    public static SourceLanguage? Named(string? lang) =>
        lang is null ? null
        : All.FirstOrDefault(l => l.Name == lang) ?? throw new GatewayException(HostErrorCodes.BadRequest, $"lang '{lang}' is not one of {Names}");

    /// <summary>The language of a file by its extension (null: none of ours).</summary>
    public static SourceLanguage? OfFile(string fileName)
    {
        var extension = Path.GetExtension(fileName);
        return All.FirstOrDefault(l => l.Extensions.Contains(extension, StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>
    /// The language a build of <paramref name="sourceName"/> uses: <paramref name="lang"/> when
    /// given, else the extension's; a name with neither is refused, naming both ways.
    /// </summary>
    public static SourceLanguage Of(string sourceName, string? lang) =>
        Named(lang) ?? OfFile(sourceName)
        ?? throw new GatewayException(HostErrorCodes.BadRequest, $"source name '{sourceName}' has no extension of a known language ({AllExtensions}); name the language with lang ({Names})");

    public override string ToString() => Name;
}
