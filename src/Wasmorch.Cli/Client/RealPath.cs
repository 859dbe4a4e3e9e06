namespace Wasmorch.Cli.Client;

/// <summary>
/// A path with every symlink along it resolved (what realpath(3) returns), so that "is this file
/// inside that folder" is asked of where the bytes really are, not of the name that leads there.
/// A symlinked folder on the way counts as much as a symlinked file at the end.
/// </summary>
public static class RealPath
{
    /// <summary>Links followed before the path is taken for a loop (Linux's own limit).</summary>
    private const int MaxLinks = 40;

    /// <exception cref="IOException">The links loop, or go deeper than <see cref="MaxLinks"/>.</exception>
    public static string Of(string path)
    {
        var links = 0;
        return Resolve(Path.GetFullPath(path), ref links);
    }

    /// <summary>True when <paramref name="path"/> is <paramref name="folder"/> or below it (both real paths).</summary>
    public static bool IsWithin(string path, string folder)
    {
        var root = Path.TrimEndingDirectorySeparator(folder) + Path.DirectorySeparatorChar;
        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return path.StartsWith(root, comparison) || string.Equals(path, Path.TrimEndingDirectorySeparator(folder), comparison);
    }

    private static string Resolve(string full, ref int links)
    {
        var root = Path.GetPathRoot(full)!;
        var current = root;
        foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(current, part);
            var target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }
            if (++links > MaxLinks)
            {
                throw new IOException($"{full}: more than {MaxLinks} symbolic links (a loop?)");
            }
            // A relative target is relative to the link's folder, which is already real.
            current = Resolve(Path.GetFullPath(target, current), ref links);
        }
        return current;
    }
}
