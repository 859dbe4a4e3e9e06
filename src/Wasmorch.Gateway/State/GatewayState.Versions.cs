using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.State;

/// <summary>
/// Module versions (docs/fleet-ops.md): every distinct module a deploy sent under a module id is a
/// version (1, 2, …), and its bytes are kept next to the state file, by SHA-256, so that a
/// rollback puts a version back without building anything.
/// </summary>
public sealed partial class GatewayState
{
    /// <summary>Where the bytes of every version are: <c>&lt;state file&gt;.versions/&lt;sha256&gt;</c>.</summary>
    public string VersionsDirectory => Path + ".versions";

    /// <summary>
    /// Records <paramref name="module"/> as a version of <paramref name="moduleId"/> (the same
    /// bytes again are the same version) and keeps its bytes; its version number.
    /// </summary>
    public async Task<int> RecordVersionAsync(string moduleId, byte[] module, string sha256, string crc32, string? artifact, string? sourceSha256, bool signatureVerified, string? by)
    {
        await KeepBytesAsync(sha256, module);
        int version;
        bool isNew;
        lock (_versionNumbers)
        {
            // Numbers are handed out here, in memory, so that a deploy's answer does not wait for a
            // commit; history and rollback flush the writer before they read.
            if (!_versionNumbers.TryGetValue(moduleId, out var known))
            {
                _versionNumbers[moduleId] = known = Versions(moduleId, withDevices: false).ToDictionary(v => v.Sha256, v => v.Version, StringComparer.Ordinal);
            }
            isNew = !known.TryGetValue(sha256, out version);
            if (isNew)
            {
                version = known.Count == 0 ? 1 : known.Values.Max() + 1;
                known[sha256] = version;
            }
        }
        if (isNew)
        {
            Enqueue(
                """
                INSERT INTO versions(module_id, version, sha256, crc32, size, artifact, source_sha256, signed, by, created_utc)
                VALUES($m, $v, $s, $c, $z, $a, $src, $sig, $by, $t) ON CONFLICT DO NOTHING
                """,
                ("$m", moduleId), ("$v", version), ("$s", sha256), ("$c", crc32.ToLowerInvariant()), ("$z", module.Length), ("$a", artifact), ("$src", sourceSha256),
                ("$sig", signatureVerified ? 1 : 0), ("$by", by), ("$t", Now()));
        }
        return version;
    }

    /// <summary>Module id → SHA-256 → version number, as handed out (loaded from the file per module id on first use).</summary>
    private readonly Dictionary<string, Dictionary<string, int>> _versionNumbers = new(StringComparer.Ordinal);

    /// <summary>The versions of <paramref name="moduleId"/>, newest first, each with the devices that hold it now (unless not <paramref name="withDevices"/>: cheaper).</summary>
    public List<ModuleVersion> Versions(string moduleId, bool withDevices = true)
    {
        var versions = new List<ModuleVersion>();
        Query("""
            SELECT version, sha256, crc32, size, artifact, source_sha256, signed, by, created_utc FROM versions
            WHERE module_id = $m ORDER BY version DESC
            """, [("$m", moduleId)], row => versions.Add(new ModuleVersion
        {
            ModuleId = moduleId,
            Version = row.GetInt32(0),
            Sha256 = row.GetString(1),
            Crc32 = row.GetString(2),
            Size = row.GetInt64(3),
            Artifact = NullableString(row, 4),
            SourceSha256 = NullableString(row, 5),
            SignatureVerified = row.GetInt64(6) != 0,
            By = NullableString(row, 7),
            CreatedAt = row.GetString(8),
        }));
        if (!withDevices)
        {
            return versions;
        }
        var holders = Holdings();
        foreach (var version in versions)
        {
            version.Devices = [.. holders.Where(h => h.Value.Any(m => m.ModuleId == moduleId && m.Sha256 == version.Sha256)).Select(h => h.Key).Order(StringComparer.Ordinal)];
        }
        return versions;
    }

    /// <summary>Keeps <paramref name="module"/> in <see cref="VersionsDirectory"/> under its SHA-256.</summary>
    public async Task KeepBytesAsync(string sha256, byte[] module)
    {
        var file = System.IO.Path.Combine(VersionsDirectory, sha256);
        if (!File.Exists(file))
        {
            Directory.CreateDirectory(VersionsDirectory);
            // Written whole, then moved into place: a file there is never half a module. Each
            // writer has its own partial file (the same module may be deployed to many boards at once).
            var partial = $"{file}.{Guid.NewGuid():n}.partial";
            await File.WriteAllBytesAsync(partial, module);
            File.Move(partial, file, overwrite: true);
        }
    }

    /// <summary>Replaces the desired state (docs/fleet-ops.md): it outlives restarts; the reconciler loads it at start.</summary>
    public Task SaveDesiredAsync(IReadOnlyList<(string ModuleId, string Selector, string Sha256, string? Mode, string? Autostart)> entries)
    {
        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue("DELETE FROM desired");
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            Enqueue(i == entries.Count - 1 ? committed : null,
                "INSERT INTO desired(position, module_id, selector, sha256, mode, autostart) VALUES($p, $m, $s, $h, $mode, $a)",
                ("$p", i), ("$m", e.ModuleId), ("$s", e.Selector), ("$h", e.Sha256), ("$mode", e.Mode), ("$a", e.Autostart));
        }
        if (entries.Count == 0)
        {
            Enqueue(committed, "SELECT 1");
        }
        return committed.Task;
    }

    public List<(string ModuleId, string Selector, string Sha256, string? Mode, string? Autostart)> Desired()
    {
        var entries = new List<(string, string, string, string?, string?)>();
        Query("SELECT module_id, selector, sha256, mode, autostart FROM desired ORDER BY position", [],
            row => entries.Add((row.GetString(0), row.GetString(1), row.GetString(2), NullableString(row, 3), NullableString(row, 4))));
        return entries;
    }

    /// <summary>The bytes of a version, or null when they are gone from <see cref="VersionsDirectory"/>.</summary>
    public byte[]? VersionBytes(string sha256)
    {
        var file = System.IO.Path.Combine(VersionsDirectory, sha256);
        return File.Exists(file) ? File.ReadAllBytes(file) : null;
    }
}
