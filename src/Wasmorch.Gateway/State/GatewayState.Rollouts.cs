using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.State;

/// <summary>A rollout as the state file keeps it: enough to carry it on after a gateway restart.</summary>
/// <param name="Signature">The signer's Ed25519 signature of the rollout's statement, carried by each of its deploys; null when unsigned.</param>
/// <param name="CreatedAt">When it was started (UTC, ISO 8601).</param>
/// <param name="EndedAt">When it came to its end (done, rolled-back, aborted); null before.</param>
public sealed record StoredRollout(long Id, string ModuleId, string Selector, string Sha256, string? Mode, string Check, int MaxFailures, int SoakMs, int Waves, string State, int Wave,
    string? Signature = null, string? CreatedAt = null, string? EndedAt = null);

/// <summary>Staged rollouts (docs/fleet-ops.md): each one and each of its devices, written as it goes.</summary>
public sealed partial class GatewayState
{
    public async Task<long> CreateRolloutAsync(string moduleId, string selector, string sha256, string? mode, string check, int maxFailures, int soakMs,
        IReadOnlyList<IReadOnlyList<string>> waves, string? signature = null)
    {
        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(committed,
            """
            INSERT INTO rollouts(module_id, selector, sha256, mode, check_func, max_failures, soak_ms, waves, state, wave, created_utc, signature)
            VALUES($m, $s, $h, $mode, $c, $f, $soak, $w, 'running', 1, $t, $sig)
            """,
            ("$m", moduleId), ("$s", selector), ("$h", sha256), ("$mode", mode), ("$c", check), ("$f", maxFailures), ("$soak", soakMs), ("$w", waves.Count), ("$t", Now()),
            ("$sig", signature));
        await committed.Task;
        long id = 0;
        Query("SELECT max(id) FROM rollouts", [], row => id = row.GetInt64(0));
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var all = waves.SelectMany((devices, w) => devices.Select(d => (Device: d, Wave: w + 1))).ToList();
        for (var i = 0; i < all.Count; i++)
        {
            Enqueue(i == all.Count - 1 ? written : null, "INSERT INTO rollout_devices(rollout_id, device, wave, outcome) VALUES($r, $d, $w, 'pending')",
                ("$r", id), ("$d", all[i].Device), ("$w", all[i].Wave));
        }
        await written.Task;
        return id;
    }

    public Task SetRolloutAsync(long id, string state, int wave, string? reason = null)
    {
        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // The end is stamped once, by the step that ends it (the dashboard shows start and end).
        var ended = state is "done" or "rolled-back" or "aborted" ? Now() : null;
        Enqueue(committed, "UPDATE rollouts SET state = $s, wave = $w, reason = coalesce($r, reason), ended_utc = coalesce(ended_utc, $e) WHERE id = $id",
            ("$s", state), ("$w", wave), ("$r", reason), ("$e", ended), ("$id", id));
        return committed.Task;
    }

    /// <summary>A device's outcome; its previous version and its failure are kept when not given (a rollback keeps why it failed).</summary>
    public Task SetRolloutDeviceAsync(long id, string device, string outcome, string? message, string? previousSha256 = null, RolloutFailure? failure = null)
    {
        var committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(committed,
            """
            UPDATE rollout_devices SET outcome = $o, message = $m, previous_sha256 = coalesce($p, previous_sha256),
                failure_kind = coalesce($fk, failure_kind), failure_code = CASE WHEN $fk IS NULL THEN failure_code ELSE $fc END,
                failure_value = CASE WHEN $fk IS NULL THEN failure_value ELSE $fv END, failure_detail = CASE WHEN $fk IS NULL THEN failure_detail ELSE $fd END,
                failure_job = CASE WHEN $fk IS NULL THEN failure_job ELSE $fj END
            WHERE rollout_id = $id AND device = $d
            """,
            ("$o", outcome), ("$m", message), ("$p", previousSha256), ("$fk", failure?.Kind), ("$fc", failure?.Code), ("$fv", failure?.Value), ("$fd", failure?.Detail),
            ("$fj", failure?.Job), ("$id", id), ("$d", device));
        return committed.Task;
    }

    /// <summary>The newest rollout, or null when there has been none.</summary>
    public StoredRollout? LatestRollout()
    {
        StoredRollout? latest = null;
        Query("SELECT id, module_id, selector, sha256, mode, check_func, max_failures, soak_ms, waves, state, wave, signature, created_utc, ended_utc FROM rollouts ORDER BY id DESC LIMIT 1", [],
            row => latest = new StoredRollout(row.GetInt64(0), row.GetString(1), row.GetString(2), row.GetString(3), NullableString(row, 4), row.GetString(5),
                row.GetInt32(6), row.GetInt32(7), row.GetInt32(8), row.GetString(9), row.GetInt32(10), NullableString(row, 11), NullableString(row, 12), NullableString(row, 13)));
        return latest;
    }

    public List<RolloutDevice> RolloutDevices(long id)
    {
        var devices = new List<RolloutDevice>();
        Query("""
            SELECT device, wave, outcome, message, previous_sha256, failure_kind, failure_code, failure_value, failure_detail, failure_job
            FROM rollout_devices WHERE rollout_id = $id ORDER BY wave, device
            """, [("$id", id)],
            row => devices.Add(new RolloutDevice
            {
                Device = row.GetString(0),
                Wave = row.GetInt32(1),
                Outcome = row.GetString(2),
                Message = NullableString(row, 3),
                PreviousSha256 = NullableString(row, 4),
                Failure = NullableString(row, 5) is { } kind
                    ? new RolloutFailure { Kind = kind, Code = NullableString(row, 6), Value = NullableString(row, 7), Detail = NullableString(row, 8), Job = row.IsDBNull(9) ? null : row.GetInt64(9) }
                    : null,
            }));
        return devices;
    }

    public string? RolloutReason(long id)
    {
        string? reason = null;
        Query("SELECT reason FROM rollouts WHERE id = $id", [("$id", id)], row => reason = NullableString(row, 0));
        return reason;
    }
}
