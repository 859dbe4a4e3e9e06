using System.Security.Cryptography;
using System.Text;

namespace Wasmorch.Gateway.Build;

/// <summary>
/// Build artifacts on disk, addressed by what went into them (source, options, compiler identity,
/// target). Survives restarts; bounded by a size cap with least-recently-used eviction; safe under
/// concurrent builds (write to a temporary file, then an atomic rename; identical keys built at
/// the same time in this process share one build). Private to its owner (folder 0700, files 0600),
/// and every file carries the SHA-256 of its artifact, checked on each read: a file changed on disk
/// is never served; it is discarded and built again.
/// </summary>
public sealed class ArtifactCache
{
    /// <summary>First line of every cache file; the artifact's SHA-256 follows it on the same line.</summary>
    private const string Header = "wasmorch-artifact-v1 ";

    private readonly string _dir;
    private readonly long _capBytes;
    private readonly Dictionary<string, Task<byte[]>> _building = new(StringComparer.Ordinal);

    public ArtifactCache(string dir, long capBytes)
    {
        _dir = dir;
        _capBytes = capBytes;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(dir);
        }
        else
        {
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>Raised with the key and the reason of a cache file that failed its check and was discarded.</summary>
    public event Action<string, string>? Discarded;

    public static string DefaultDirectory()
    {
        var cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        if (string.IsNullOrEmpty(cache))
        {
            cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        }
        return Path.Combine(cache, "wasmorch", "artifacts");
    }

    public static string Key(params string[] parts)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\0', parts)));
        return Convert.ToHexStringLower(hash);
    }

    private string PathOf(string key) => Path.Combine(_dir, key + ".bin");

    /// <summary>Raised with the key of each artifact evicted.</summary>
    public event Action<string>? Evicted;

    public bool Contains(string key) => File.Exists(PathOf(key));

    /// <summary>The artifact for <paramref name="key"/>: from disk, or built once by <paramref name="build"/>.</summary>
    public async Task<(byte[] Bytes, bool Hit)> GetOrBuildAsync(string key, Func<Task<byte[]>> build)
    {
        var path = PathOf(key);
        if (TryRead(key, path) is { } cached)
        {
            return (cached, true);
        }
        Task<byte[]> task;
        bool owner;
        lock (_building)
        {
            owner = !_building.TryGetValue(key, out task!);
            if (owner)
            {
                task = BuildAndStoreAsync(path, build);
                _building[key] = task;
            }
        }
        try
        {
            return (await task, !owner);
        }
        finally
        {
            if (owner)
            {
                lock (_building)
                {
                    _building.Remove(key);
                }
            }
        }
    }

    private async Task<byte[]> BuildAndStoreAsync(string path, Func<Task<byte[]>> build)
    {
        var bytes = await build();
        var temp = path + "." + Guid.NewGuid().ToString("n") + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        await using (var file = new FileStream(temp, options))
        {
            await file.WriteAsync(Encoding.ASCII.GetBytes(Header + Convert.ToHexStringLower(SHA256.HashData(bytes)) + "\n"));
            await file.WriteAsync(bytes);
        }
        File.Move(temp, path, overwrite: true);
        Evict();
        return bytes;
    }

    /// <summary>The artifact, if its file is there and its bytes still have the SHA-256 written with them.</summary>
    private byte[]? TryRead(string key, string path)
    {
        byte[] file;
        try
        {
            file = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        var headerLength = Header.Length + 64 + 1;
        var bytes = file.Length >= headerLength ? file.AsSpan(headerLength) : [];
        var recorded = file.Length >= headerLength ? Encoding.ASCII.GetString(file, 0, headerLength) : "";
        if (!recorded.StartsWith(Header, StringComparison.Ordinal)
            || recorded[Header.Length..^1] != Convert.ToHexStringLower(SHA256.HashData(bytes)))
        {
            Discard(key, path, recorded.StartsWith(Header, StringComparison.Ordinal)
                ? "its bytes no longer have the SHA-256 recorded when it was built (changed on disk)"
                : "it is not a cache file of this version");
            return null;
        }
        // The access time is the LRU clock (many file systems mount noatime).
        File.SetLastAccessTimeUtc(path, DateTime.UtcNow);
        return bytes.ToArray();
    }

    private void Discard(string key, string path, string reason)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Already gone; it is rebuilt either way.
        }
        Discarded?.Invoke(key, reason);
    }

    /// <summary>Removes least recently used artifacts until the cache is under its cap.</summary>
    public void Evict()
    {
        var files = new DirectoryInfo(_dir).GetFiles("*.bin").OrderBy(f => f.LastAccessTimeUtc).ToList();
        var total = files.Sum(f => f.Length);
        foreach (var file in files)
        {
            if (total <= _capBytes)
            {
                break;
            }
            total -= file.Length;
            try
            {
                file.Delete();
                Evicted?.Invoke(Path.GetFileNameWithoutExtension(file.Name));
            }
            catch (IOException)
            {
                // Another gateway evicted it first.
            }
        }
    }
}
