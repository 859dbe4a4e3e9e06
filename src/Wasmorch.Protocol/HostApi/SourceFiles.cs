using System.Security.Cryptography;
using System.Text;

namespace Wasmorch.Protocol.HostApi;

/// <summary>The files a request sends beside its source (<see cref="HostRequest.Files"/>), as one hash for cache keys and signed statements.</summary>
public static class SourceFiles
{
    /// <summary>SHA-256 over every file's name and content's SHA-256, in name order; null for none.</summary>
    public static string? Sha256(IReadOnlyDictionary<string, string>? files)
    {
        if (files is null || files.Count == 0)
        {
            return null;
        }
        var text = new StringBuilder();
        foreach (var (name, content) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            text.Append(name).Append('\0').Append(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(content)))).Append('\n');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
