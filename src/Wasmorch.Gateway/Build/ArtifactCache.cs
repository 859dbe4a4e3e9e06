using System.Security.Cryptography;
using System.Text;

namespace Wasmorch.Gateway.Build;

/// <summary>
/// Build artifacts on disk, addressed by what went into them (source, options, compiler identity,
/// target). Survives restarts; bounded by a size cap with least-recently-used eviction; safe under
/// concurrent builds (write to a temporary file, then an atomic rename; identical keys built at
/// the same time in this process share one build).
/// </summary>
public sealed class ArtifactCache
{
    private readonly string _dir;
    private readonly long _capBytes;
    private readonly Dictionary<string, Task<byte[]>> _building = new(StringComparer.Ordinal);

    public ArtifactCache(string dir, long capBytes)
    {
        _dir = dir;
        _capBytes = capBytes;
        Directory.CreateDirectory(dir);
    }

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
        if (TryRead(path) is { } cached)
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
        await File.WriteAllBytesAsync(temp, bytes);
        File.Move(temp, path, overwrite: true);
        Evict();
        return bytes;
    }

    private static byte[]? TryRead(string path)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            // The access time is the LRU clock (many file systems mount noatime).
            File.SetLastAccessTimeUtc(path, DateTime.UtcNow);
            return bytes;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
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
