using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.State;

/// <summary>A change to the state: SQL and its parameters, and who waits for the commit.</summary>
internal sealed record StateWrite(string Sql, (string Name, object? Value)[] Parameters, TaskCompletionSource? Committed = null);

public sealed partial class GatewayState
{
    public void RecordDevice(string name, string endpoint) => Enqueue(
        "INSERT INTO devices(name, endpoint) VALUES($n, $e) ON CONFLICT(name) DO UPDATE SET endpoint = excluded.endpoint",
        ("$n", name), ("$e", endpoint));

    public void RecordAgent(string device, string agent) => Enqueue(
        "UPDATE devices SET agent = $a, last_seen_utc = $t WHERE name = $n", ("$n", device), ("$a", agent), ("$t", Now()));

    /// <summary>A module the device accepted (LOAD_OK): durable when the task completes.</summary>
    public Task RecordDeployedAsync(string device, HeldModule module)
    {
        _lastReported.TryRemove(device, out _);
        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(committed,
            """
            INSERT INTO modules(device, module_id, crc32, sha256, size, artifact, deployed_utc, exports) VALUES($d, $m, $c, $s, $z, $a, $t, $x)
            ON CONFLICT(device, module_id) DO UPDATE SET crc32 = excluded.crc32, sha256 = excluded.sha256,
                size = excluded.size, artifact = excluded.artifact, deployed_utc = excluded.deployed_utc, exports = excluded.exports
            """,
            ("$d", device), ("$m", module.ModuleId), ("$c", module.Crc32.ToLowerInvariant()), ("$s", module.Sha256), ("$z", module.Size),
            ("$a", module.Artifact), ("$t", module.DeployedAt ?? Now()), ("$x", module.Exports is null ? null : string.Join(',', module.Exports)));
        return committed.Task;
    }

    public void RecordUnloaded(string device, string moduleId)
    {
        _lastReported.TryRemove(device, out _);
        Enqueue("DELETE FROM modules WHERE device = $d AND module_id = $m", ("$d", device), ("$m", moduleId));
    }

    /// <summary>
    /// The device's own list corrects the record: modules it no longer holds go, modules it holds
    /// that this gateway never deployed appear (without a SHA-256). Takes STATUS's raw
    /// <c>modules</c> (<c>id,…</c> or <c>-</c>) and <c>module_crcs</c> (<c>id:crc,…</c>; null when not sent).
    /// </summary>
    public void ReconcileHoldings(string device, string modules, string? moduleCrcs)
    {
        // STATUS is polled: an unchanged list is recognised before any parsing and costs nothing.
        var reported = modules + "|" + moduleCrcs;
        if (_lastReported.TryGetValue(device, out var last) && last == reported)
        {
            return;
        }
        _lastReported[device] = reported;
        Enqueue("DELETE FROM modules WHERE device = $d AND instr(',' || $ids || ',', ',' || module_id || ',') = 0",
            ("$d", device), ("$ids", modules == "-" ? string.Empty : modules));
        foreach (var (moduleId, crc) in Protocol.Agent.ModuleCrcs.Parse(moduleCrcs))
        {
            Enqueue("DELETE FROM modules WHERE device = $d AND module_id = $m AND crc32 <> $c", ("$d", device), ("$m", moduleId), ("$c", crc));
            Enqueue("INSERT OR IGNORE INTO modules(device, module_id, crc32) VALUES($d, $m, $c)", ("$d", device), ("$m", moduleId), ("$c", crc));
        }
    }

    /// <summary>Job records kept: the history is bounded, the oldest go first.</summary>
    public const int JobsKept = 100_000;

    private long _jobsStarted;

    public void RecordJobStarted(string device, long job, string moduleId, string func, string? args)
    {
        Enqueue("INSERT INTO jobs(device, job, module_id, func, args, status, started_utc) VALUES($d, $j, $m, $f, $a, 'RUNNING', $t)",
            ("$d", device), ("$j", job), ("$m", moduleId), ("$f", func), ("$a", args), ("$t", Now()));
        if (Interlocked.Increment(ref _jobsStarted) % 1000 == 0)
        {
            Enqueue("DELETE FROM jobs WHERE id <= (SELECT max(id) FROM jobs) - $k", ("$k", JobsKept));
        }
    }

    /// <summary>A RESULT: the newest record of that job number on that device (also one marked LOST when the link dropped).</summary>
    public void RecordJobEnded(string device, long job, string status, string? value, string? message, long? elapsedUs) => Enqueue(
        """
        UPDATE jobs SET status = $s, value = $v, message = $msg, elapsed_us = $e, ended_utc = $t
        WHERE id = (SELECT max(id) FROM jobs WHERE device = $d AND job = $j AND status IN ('RUNNING', 'LOST'))
        """,
        ("$d", device), ("$j", job), ("$s", status), ("$v", value), ("$msg", message), ("$e", elapsedUs), ("$t", Now()));

    /// <summary>
    /// The board restarted: its RAM held the modules and the running job, and both are gone. A job
    /// whose end was not seen because the link had dropped (LOST) ended with this restart at the latest.
    /// </summary>
    public void RecordDeviceReset(string device, string reason)
    {
        _lastReported.TryRemove(device, out _);
        Enqueue("UPDATE jobs SET status = 'DEVICE_RESET', message = $r, ended_utc = coalesce(ended_utc, $t) WHERE device = $d AND status IN ('RUNNING', 'LOST')",
            ("$d", device), ("$r", reason), ("$t", Now()));
        Enqueue("DELETE FROM modules WHERE device = $d", ("$d", device));
    }

    /// <summary>The link dropped: a running job's end will not be seen unless the device reports it on a later link.</summary>
    public void RecordLinkLost(string device, string reason) => Enqueue(
        "UPDATE jobs SET status = 'LOST', message = $r, ended_utc = $t WHERE device = $d AND status = 'RUNNING'",
        ("$d", device), ("$r", "the link dropped while the job ran: " + reason), ("$t", Now()));

    public void RecordArtifact(string key, string kind, string sha256, long size) => Enqueue(
        """
        INSERT INTO artifacts(key, kind, sha256, size, created_utc, last_used_utc) VALUES($k, $kind, $s, $z, $t, $t)
        ON CONFLICT(key) DO UPDATE SET last_used_utc = excluded.last_used_utc
        """,
        ("$k", key), ("$kind", kind), ("$s", sha256), ("$z", size), ("$t", Now()));

    public void ForgetArtifact(string key) => Enqueue("DELETE FROM artifacts WHERE key = $k", ("$k", key));

    /// <summary>Resolves when everything queued so far is committed.</summary>
    public Task FlushAsync()
    {
        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(committed, "SELECT 1");
        return committed.Task;
    }

    private void Enqueue(string sql, params (string Name, object? Value)[] parameters) => Enqueue(null, sql, parameters);

    private void Enqueue(TaskCompletionSource? committed, string sql, params (string Name, object? Value)[] parameters)
    {
        if (!_writes.Writer.TryWrite(new StateWrite(sql, parameters, committed)))
        {
            committed?.TrySetException(new ObjectDisposedException(nameof(GatewayState)));
        }
    }

    private async Task WriteLoopAsync()
    {
        var batch = new List<StateWrite>();
        var reader = _writes.Reader;
        while (await reader.WaitToReadAsync())
        {
            while (batch.Count < 512 && reader.TryRead(out var write))
            {
                batch.Add(write);
            }
            try
            {
                Commit(batch);
                foreach (var write in batch)
                {
                    write.Committed?.TrySetResult();
                }
            }
            catch (SqliteException ex)
            {
                LogWriteFailed(_logger, batch.Count, ex);
                foreach (var write in batch)
                {
                    write.Committed?.TrySetException(ex);
                }
            }
            batch.Clear();
        }
    }

    /// <summary>Statements of the writer loop by their text (only the writer loop touches it).</summary>
    private readonly Dictionary<string, SqliteCommand> _prepared = new(StringComparer.Ordinal);

    private void Commit(List<StateWrite> batch)
    {
        using var transaction = _writer.BeginTransaction();
        foreach (var write in batch)
        {
            // One command per statement text, kept: SQLite compiles each statement once, not per write.
            if (!_prepared.TryGetValue(write.Sql, out var command))
            {
                command = _writer.CreateCommand();
                command.CommandText = write.Sql;
                _prepared[write.Sql] = command;
            }
            command.Transaction = transaction;
            command.Parameters.Clear();
            foreach (var (name, value) in write.Parameters)
            {
                command.Parameters.AddWithValue(name, value ?? DBNull.Value);
            }
            command.ExecuteNonQuery();
        }
        transaction.Commit();
    }

    public async ValueTask DisposeAsync()
    {
        _writes.Writer.TryComplete();
        await _writerLoop;
        foreach (var command in _prepared.Values)
        {
            await command.DisposeAsync();
        }
        await _writer.DisposeAsync();
        lock (_readLock)
        {
            _reader.Dispose();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "State: a batch of {Count} change(s) could not be committed")]
    private static partial void LogWriteFailed(ILogger logger, int count, Exception ex);
}
