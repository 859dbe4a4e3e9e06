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

    /// <summary>Every mounted probe drive (Linux: /proc/mounts; elsewhere the drives the OS lists).</summary>
    public static IReadOnlyList<StLinkDrive> Mounted()
    {
        IEnumerable<string> roots;
        if (File.Exists("/proc/mounts"))
        {
            // Mount points escape spaces and tabs as \040 and \011.
            roots = File.ReadAllLines("/proc/mounts").Select(l => l.Split(' ')).Where(f => f.Length > 2 && f[2] is "vfat" or "msdos" or "fuseblk")
                .Select(f => f[1].Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal));
        }
        else
        {
            roots = DriveInfo.GetDrives().Where(d => d.IsReady && d.DriveType == DriveType.Removable).Select(d => d.RootDirectory.FullName);
        }
        return [.. roots.Where(IsDrive).Select(r => new StLinkDrive(r))];
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
        try
        {
            await using var file = new FileStream(target, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough);
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
