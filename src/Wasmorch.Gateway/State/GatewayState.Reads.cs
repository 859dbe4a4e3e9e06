using Microsoft.Data.Sqlite;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.State;

public sealed partial class GatewayState
{
    public const int MaxJobsListed = 1000;

    /// <summary>The agent each device last connected as, and when, by device name.</summary>
    public Dictionary<string, (string? Agent, string? LastSeen)> DevicesSeen()
    {
        var result = new Dictionary<string, (string?, string?)>(StringComparer.Ordinal);
        Query("SELECT name, agent, last_seen_utc FROM devices", [], row => result[row.GetString(0)] = (NullableString(row, 1), NullableString(row, 2)));
        return result;
    }

    /// <summary>Modules recorded for each device, by device name.</summary>
    public Dictionary<string, List<HeldModule>> Holdings()
    {
        var result = new Dictionary<string, List<HeldModule>>(StringComparer.Ordinal);
        Query("SELECT device, module_id, crc32, sha256, size, artifact, deployed_utc, exports FROM modules ORDER BY device, module_id", [], row =>
        {
            var device = row.GetString(0);
            if (!result.TryGetValue(device, out var list))
            {
                result[device] = list = [];
            }
            list.Add(new HeldModule
            {
                ModuleId = row.GetString(1),
                Crc32 = row.GetString(2),
                Sha256 = NullableString(row, 3),
                Size = row.IsDBNull(4) ? null : row.GetInt64(4),
                Artifact = NullableString(row, 5),
                DeployedAt = NullableString(row, 6),
                Exports = NullableString(row, 7) is { } exports ? [.. exports.Split(',', StringSplitOptions.RemoveEmptyEntries)] : null,
            });
        });
        return result;
    }

    /// <summary>The newest <paramref name="limit"/> jobs, of one device or all.</summary>
    public List<JobRecord> Jobs(string? device, int limit)
    {
        var jobs = new List<JobRecord>();
        Query("""
            SELECT device, job, module_id, func, args, status, value, message, elapsed_us, started_utc, ended_utc FROM jobs
            WHERE $d IS NULL OR device = $d ORDER BY id DESC LIMIT $l
            """, [("$d", device), ("$l", Math.Clamp(limit, 1, MaxJobsListed))], row => jobs.Add(new JobRecord
        {
            Device = row.GetString(0),
            Job = row.GetInt64(1),
            ModuleId = row.GetString(2),
            Func = row.GetString(3),
            Args = NullableString(row, 4),
            Status = row.GetString(5),
            Value = NullableString(row, 6),
            Message = NullableString(row, 7),
            ElapsedUs = row.IsDBNull(8) ? null : row.GetInt64(8),
            StartedAt = row.GetString(9),
            EndedAt = NullableString(row, 10),
        }));
        return jobs;
    }

    /// <summary>Artifact keys in the index (for pruning entries whose file was evicted while the gateway was down).</summary>
    public List<string> ArtifactKeys()
    {
        var keys = new List<string>();
        Query("SELECT key FROM artifacts", [], row => keys.Add(row.GetString(0)));
        return keys;
    }

    private void Query(string sql, (string Name, object? Value)[] parameters, Action<SqliteDataReader> each)
    {
        lock (_readLock)
        {
            using var command = _reader.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }
            using var row = command.ExecuteReader();
            while (row.Read())
            {
                each(row);
            }
        }
    }

    private static string? NullableString(SqliteDataReader row, int column) => row.IsDBNull(column) ? null : row.GetString(column);
}
