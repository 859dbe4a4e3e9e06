using System.Globalization;
using System.Text.RegularExpressions;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Build;

/// <summary>
/// What a host may change about a compile: structured options, never raw compiler flags (a raw
/// flag such as <c>-include /etc/passwd</c> would read the gateway's files).
/// </summary>
public sealed partial record BuildOptions(string OptLevel, int StackSize, IReadOnlyList<string> Exports, bool KeepNames = false, bool WasmOpt = false, string? Lang = null)
{
    public static BuildOptions Seed { get; } = new("3", 2048, []);

    public static BuildOptions From(HostRequest request)
    {
        var opt = request.OptLevel ?? Seed.OptLevel;
        if (opt is not ("0" or "1" or "2" or "3" or "s" or "z"))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"opt_level '{opt}' must be one of 0, 1, 2, 3, s, z");
        }
        var stack = request.StackSize ?? Seed.StackSize;
        if (stack is < 512 or > 32768 || stack % 16 != 0)
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"stack_size {stack} must be a multiple of 16 from 512 to 32768 bytes");
        }
        var exports = request.Exports ?? [];
        foreach (var name in exports)
        {
            if (!Identifier().IsMatch(name))
            {
                throw new GatewayException(HostErrorCodes.BadRequest, $"export '{name}' is not a C identifier");
            }
        }
        // The language a source is in, when its file name's extension does not say (SourceLanguage).
        var lang = SourceLanguage.Named(request.Lang)?.Name;
        return new BuildOptions(opt, stack, [.. exports.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)], request.KeepNames, request.WasmOpt, lang);
    }

    /// <summary>
    /// The compile step: the seed's flags with these options in place. It never links: clang's
    /// driver runs binaryen's wasm-opt by itself after an optimized link (-O1 and up) when it finds
    /// one on PATH, which would make a module depend on whether binaryen happens to be installed
    /// (and drop its name section). wasm-opt runs only when asked (<see cref="WasmOpt"/>).
    /// </summary>
    public IReadOnlyList<string> CompileArguments() =>
    [
        "--target=wasm32-unknown-unknown",
        "-O" + OptLevel,
        "-c",
        // In the source's own translation unit: one compile, not a second one at link time.
        "-include", LayoutHeader,
    ];

    /// <summary>The link step, without an -O flag (so without clang's own wasm-opt run).</summary>
    public IReadOnlyList<string> LinkArguments() =>
    [
        "--target=wasm32-unknown-unknown",
        "-nostdlib",
        "-Wl,--no-entry",
        "-Wl,--initial-memory=65536",
        "-Wl,--max-memory=65536",
        "-Wl,--stack-first",
        "-Wl,-z,stack-size=" + StackSize.ToString(CultureInfo.InvariantCulture),
        // Where data ends: WAMR then gives a module that never grows its memory only the bytes up
        // to __heap_base (stack and data, a few KiB) instead of the whole 64 KiB page, which is
        // what lets a 128 KB board hold modules of 24 KiB (firmware/README.md, RAM).
        "-Wl,--export=__heap_base",
        "-Wl,--export=__data_end",
        .. Exports.Select(e => "-Wl,--export=" + e),
    ];

    /// <summary>
    /// Included before every source: 16 bytes of data, so that data always ends above the stack.
    /// WAMR's AOT runtime refuses an execution environment to a module whose __data_end equals its
    /// stack top (a stack-first module without data), once the module says where its data ends.
    /// </summary>
    public const string LayoutHeader = "include/wasmorch_layout.h";

    public const string LayoutHeaderText =
        "/* Added by the Wasmorch gateway: keeps __data_end above the stack (BuildOptions.LayoutHeader). */\n" +
        "__attribute__((used)) unsigned char wasmorch_layout_pad[16] = {1};\n";

    /// <summary>The compile as a cache key sees it: clang's arguments for both steps, wasm-opt when asked, and what is stripped after.</summary>
    public override string ToString() =>
        string.Join(' ', CompileArguments()) + " && " + string.Join(' ', LinkArguments()) + (WasmOpt ? " wasm-opt=-Oz" : "") + (KeepNames ? " strip=custom-but-name" : " strip=custom") + (Lang is null ? "" : " lang=" + Lang);

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
    private static partial Regex Identifier();
}
