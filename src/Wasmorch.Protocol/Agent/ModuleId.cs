namespace Wasmorch.Protocol.Agent;

/// <summary><c>module_id</c> matches <c>[A-Za-z0-9_.-]{1,32}</c>.</summary>
public static class ModuleId
{
    public static bool IsValid(ReadOnlySpan<char> id)
    {
        if (id.IsEmpty || id.Length > ProtocolLimits.MaxModuleIdLength)
        {
            return false;
        }
        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Function names follow C identifiers, as exported by clang.</summary>
    public static bool IsValidFunctionName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || name.Length > 64 || char.IsAsciiDigit(name[0]))
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }
        return true;
    }
}
