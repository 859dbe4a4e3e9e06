namespace Wasmorch.Flashing;

/// <summary>
/// The USB drive an ST-LINK/V2-1 probe shows (NUCLEO boards): copying a .bin onto it programs the
/// target; the probe then remounts the drive, without the file, or with FAIL.TXT saying why not.
/// </summary>
public sealed record StLinkDrive(string Root)
{
    public string Label => Path.GetFileName(Path.TrimEndingDirectorySeparator(Root));

    /// <summary>A directory is a probe's drive when it holds the files ST-LINK firmware puts there.</summary>
    public static bool IsDrive(string dir) =>
        Directory.Exists(dir) && (File.Exists(Path.Combine(dir, "MBED.HTM")) || File.Exists(Path.Combine(dir, "DETAILS.TXT")));

    /// <summary>Every mounted probe drive (Linux: /proc/self/mounts; elsewhere the drives the OS lists).</summary>
    public static IReadOnlyList<StLinkDrive> Mounted()
    {
        IEnumerable<string> roots = File.Exists(MountTable)
            ? MountTableEntries().Where(m => m.Type is "vfat" or "msdos" or "fuseblk").Select(m => m.Point)
            : DriveInfo.GetDrives().Where(d => d.IsReady && d.DriveType == DriveType.Removable).Select(d => d.RootDirectory.FullName);
        return [.. roots.Where(IsDrive).Select(r => new StLinkDrive(r))];
    }

    /// <summary>
    /// Why <paramref name="dir"/> (named by the user) is not a probe's drive to write an image to, or
    /// null when it is: a mount point the system lists, reached without a symlink, holding the files
    /// ST-LINK firmware puts there. A directory that merely looks like a drive, or a link to one,
    /// could send the image (and the write) anywhere.
    /// </summary>
    public static string? Problem(string dir)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir));
        if (FirstLink(full) is { } link)
        {
            return $"{dir} is not an ST-LINK drive: {link} is a symbolic link (name the drive's mount point itself)";
        }
        if (!Directory.Exists(full))
        {
            return $"{dir} is not an ST-LINK drive: no such directory";
        }
        if (!IsMountPoint(full))
        {
            return $"{dir} is not an ST-LINK drive: it is not a mount point (the system mounts a probe's drive when the board is plugged in)";
        }
        return IsDrive(full) ? null : $"{dir} is not an ST-LINK drive (no MBED.HTM or DETAILS.TXT in it)";
    }

    private const string MountTable = "/proc/self/mounts";

    /// <summary>The mount table's entries; mount points escape spaces, tabs, newlines and backslashes in octal (\040).</summary>
    private static IEnumerable<(string Point, string Type)> MountTableEntries() =>
        File.ReadAllLines(MountTable).Select(l => l.Split(' ')).Where(f => f.Length > 2)
            .Select(f => (System.Text.RegularExpressions.Regex.Replace(f[1], @"\\([0-7]{3})", m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString()), f[2]));

    private static bool IsMountPoint(string full) => File.Exists(MountTable)
        ? MountTableEntries().Any(m => m.Point == full)
        : DriveInfo.GetDrives().Any(d => d.IsReady && string.Equals(Path.TrimEndingDirectorySeparator(d.RootDirectory.FullName), full, StringComparison.OrdinalIgnoreCase));

    /// <summary>The first symlink on the way to <paramref name="full"/> (itself included), or null.</summary>
    private static string? FirstLink(string full)
    {
        var root = Path.GetPathRoot(full)!;
        var current = root;
        foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            if (new FileInfo(current).LinkTarget is not null)
            {
                return current;
            }
        }
        return null;
    }

    /// <summary>
    /// Writes the image and waits for the probe's verdict: the file gone (programmed) or FAIL.TXT.
    /// Returns false when neither came within <paramref name="wait"/> (the probe may still be busy).
    /// </summary>
    /// <exception cref="FlashException">The probe wrote FAIL.TXT, or the drive could not be written.</exception>
    public async Task<bool> ProgramAsync(FirmwareImage image, string fileName, TimeSpan wait, CancellationToken ct)
    {
        var target = Path.Combine(Root, fileName);
        var fail = Path.Combine(Root, "FAIL.TXT");
        var staleFailure = File.Exists(fail) ? File.GetLastWriteTimeUtc(fail) : (DateTime?)null;
        if (new FileInfo(target).LinkTarget is { } link)
        {
            throw new FlashException(FlashFailure.NoBoard, $"{target} is a symbolic link (to {link}): the image is not written through it");
        }
        try
        {
            // A stale image of ours goes first; CreateNew then never follows a link swapped in meanwhile (O_EXCL).
            File.Delete(target);
            await using var file = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough);
            await file.WriteAsync(image.Bytes, ct);
            file.Flush(flushToDisk: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FlashException(FlashFailure.ProbeFailed, $"cannot write {target}: {ex.Message}");
        }
        var deadline = DateTime.UtcNow + wait;
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(fail) && File.GetLastWriteTimeUtc(fail) != staleFailure)
            {
                throw new FlashException(FlashFailure.ProbeFailed, $"the probe refused the image: {fail} says \"{(await File.ReadAllTextAsync(fail, ct)).Trim()}\"");
            }
            if (!File.Exists(target))
            {
                return true;
            }
            await Task.Delay(100, ct);
        }
        return false;
    }
}
