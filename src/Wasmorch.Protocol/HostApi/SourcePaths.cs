using System.Text.RegularExpressions;

namespace Wasmorch.Protocol.HostApi;

/// <summary>
/// What a request says about a file a user typed: its <c>source_name</c> and the module id taken
/// from it. Both separators count, whatever this machine's: <c>..\modules\c\math_ops.c</c> typed
/// on Windows names <c>math_ops.c</c> wherever the name is computed (and a gateway receives the
/// name alone, never a path).
/// </summary>
public static partial class SourcePaths
{
    /// <summary>The last segment of a path, after its last '/' or '\'.</summary>
    public static string FileName(string typed) => typed[(typed.LastIndexOfAny(['/', '\\']) + 1)..];

    /// <summary>math_ops.c → math_ops; characters a module id cannot hold become '_'; at most 32 characters.</summary>
    public static string ModuleIdOf(string typed)
    {
        var name = FileName(typed);
        var dot = name.LastIndexOf('.');
        var id = NotInModuleId().Replace(dot >= 0 ? name[..dot] : name, "_");
        return id.Length switch
        {
            0 => "module",
            > 32 => id[..32],
            _ => id,
        };
    }

    [GeneratedRegex("[^A-Za-z0-9_.-]")]
    private static partial Regex NotInModuleId();
}
