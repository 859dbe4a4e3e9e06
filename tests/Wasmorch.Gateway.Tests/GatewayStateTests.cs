using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Wasmorch.Gateway.Config;
using Wasmorch.Gateway.State;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Tests;

public sealed class GatewayStateTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"wasmorch-state-{Guid.NewGuid():n}.db");

    private GatewayState Open() => GatewayState.Open(_path, NullLogger.Instance);

    private static HeldModule Module(string id, string crc) => new() { ModuleId = id, Crc32 = crc, Sha256 = new string('a', 64), Size = 123, Artifact = "file:as-is" };

    /// <summary>Finding 11 of issue 14: the state file was created readable by everyone.</summary>
    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_state_file_is_created_private_to_its_owner()
    {
        await using var state = Open();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_path));
    }

    /// <summary>Finding 11 of issue 14: a 0-byte file was taken silently; it is now started afresh with a warning, never moved aside as corrupt.</summary>
    [Fact]
    public async Task An_empty_state_file_starts_fresh_and_is_not_taken_for_a_corrupt_one()
    {
        await File.WriteAllBytesAsync(_path, []);
        await using (var state = Open())
        {
            state.RecordDevice("nucleo", "tcp://127.0.0.1:7001");
            await state.RecordDeployedAsync("nucleo", Module("m", "00000001"));
        }
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(_path)!, Path.GetFileName(_path) + ".corrupt-*"));
        await using var reopened = Open();
        Assert.Single(reopened.Holdings()["nucleo"]);
    }

    [Fact]
    public async Task A_recorded_deploy_and_finished_job_survive_a_reopen()
    {
        await using (var state = Open())
        {
            state.RecordDevice("nucleo", "tcp://127.0.0.1:7001");
            await state.RecordDeployedAsync("nucleo", Module("math", "0A0B0C0D"));
            state.RecordJobStarted("nucleo", 1, "math", "add", "10,15");
            state.RecordJobEnded("nucleo", 1, "OK", "25", null, 42);
            await state.FlushAsync();
        }
        await using var reopened = Open();
        var held = Assert.Single(reopened.Holdings()["nucleo"]);
        Assert.Equal(("math", "0a0b0c0d", 123L), (held.ModuleId, held.Crc32, held.Size!.Value));
        var job = Assert.Single(reopened.Jobs("nucleo", 10));
        Assert.Equal(("OK", "25", 42L, "10,15"), (job.Status, job.Value, job.ElapsedUs!.Value, job.Args));
        Assert.NotNull(job.EndedAt);
    }

    [Fact]
    public async Task A_job_running_when_the_gateway_stopped_reads_lost_after_a_restart()
    {
        await using (var state = Open())
        {
            state.RecordJobStarted("disco", 7, "toggle", "toggle_forever", null);
            await state.FlushAsync();
        }
        await using var reopened = Open();
        var job = Assert.Single(reopened.Jobs(null, 10));
        Assert.Equal("LOST", job.Status);
        Assert.Contains("gateway stopped", job.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_result_seen_on_a_later_link_corrects_a_job_marked_lost_when_the_link_dropped()
    {
        await using var state = Open();
        state.RecordJobStarted("b", 3, "m", "f", null);
        state.RecordLinkLost("b", "link failed: reset by peer");
        await state.FlushAsync();
        Assert.Equal("LOST", state.Jobs("b", 1)[0].Status);
        state.RecordJobEnded("b", 3, "STOPPED", null, "stopped by host", 900);
        await state.FlushAsync();
        Assert.Equal("STOPPED", state.Jobs("b", 1)[0].Status);
    }

    [Fact]
    public async Task A_reset_seen_after_the_link_dropped_marks_the_lost_job_device_reset()
    {
        await using var state = Open();
        state.RecordJobStarted("b", 3, "m", "f", null);
        state.RecordJobStarted("other", 3, "m", "f", null);
        state.RecordLinkLost("b", "link failed: reset by peer");
        state.RecordLinkLost("other", "link failed: reset by peer");
        state.RecordDeviceReset("b", "b restarted (boot line)");
        await state.FlushAsync();
        Assert.Equal("DEVICE_RESET", state.Jobs("b", 1)[0].Status);
        Assert.Equal("b restarted (boot line)", state.Jobs("b", 1)[0].Message);
        Assert.Equal("LOST", state.Jobs("other", 1)[0].Status);
    }

    [Fact]
    public async Task A_job_number_reused_after_a_reset_updates_only_the_newest_record()
    {
        await using var state = Open();
        state.RecordJobStarted("b", 1, "m", "f", null);
        state.RecordDeviceReset("b", "uptime went backwards");
        state.RecordJobStarted("b", 1, "m", "g", null);
        state.RecordJobEnded("b", 1, "OK", "5", null, 1);
        await state.FlushAsync();
        var jobs = state.Jobs("b", 10);
        Assert.Equal(["OK", "DEVICE_RESET"], jobs.Select(j => j.Status));
        Assert.Equal("g", jobs[0].Func);
    }

    [Fact]
    public async Task A_device_reset_forgets_what_the_board_held()
    {
        await using var state = Open();
        await state.RecordDeployedAsync("b", Module("m", "11111111"));
        state.RecordDeviceReset("b", "BOOT line");
        await state.FlushAsync();
        Assert.False(state.Holdings().ContainsKey("b"));
    }

    [Fact]
    public async Task The_device_status_corrects_the_record()
    {
        await using var state = Open();
        await state.RecordDeployedAsync("b", Module("kept", "11111111"));
        await state.RecordDeployedAsync("b", Module("gone", "22222222"));
        await state.RecordDeployedAsync("b", Module("changed", "33333333"));
        state.ReconcileHoldings("b", "kept,changed,foreign", "kept:11111111,changed:44444444,foreign:55555555");
        await state.FlushAsync();
        var held = state.Holdings()["b"].ToDictionary(m => m.ModuleId);
        Assert.Equal(["changed", "foreign", "kept"], held.Keys.Order(StringComparer.Ordinal));
        Assert.NotNull(held["kept"].Sha256);
        Assert.Equal("44444444", held["changed"].Crc32);
        Assert.Null(held["changed"].Sha256);
        Assert.Null(held["foreign"].Sha256);
    }

    [Fact]
    public async Task Without_crcs_the_status_still_removes_modules_the_device_no_longer_lists()
    {
        await using var state = Open();
        await state.RecordDeployedAsync("b", Module("a", "11111111"));
        await state.RecordDeployedAsync("b", Module("z", "22222222"));
        state.ReconcileHoldings("b", "a", null);
        await state.FlushAsync();
        Assert.Equal("a", Assert.Single(state.Holdings()["b"]).ModuleId);
    }

    [Fact]
    public async Task A_file_that_is_not_a_database_is_moved_aside_not_trusted()
    {
        await File.WriteAllTextAsync(_path, "this is not an SQLite file, just text that got here somehow");
        await using var state = Open();
        await state.RecordDeployedAsync("b", Module("m", "11111111"));
        Assert.Single(state.Holdings()["b"]);
        var aside = Assert.Single(Directory.GetFiles(Path.GetDirectoryName(_path)!, Path.GetFileName(_path) + ".corrupt-*"));
        Assert.StartsWith("this is not", await File.ReadAllTextAsync(aside), StringComparison.Ordinal);
        File.Delete(aside);
    }

    [Fact]
    public async Task A_file_from_a_newer_schema_is_refused_with_a_clear_error()
    {
        using (var connection = new SqliteConnection($"Data Source={_path};Pooling=false"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 99";
            command.ExecuteNonQuery();
        }
        var ex = Assert.Throws<ConfigException>(Open);
        Assert.Contains("newer wasmorch", ex.Message, StringComparison.Ordinal);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task A_schema_2_file_gains_the_rollout_signature_and_keeps_its_rollouts()
    {
        using (var connection = new SqliteConnection($"Data Source={_path};Pooling=false"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            // Schema 2's rollouts table, as wasmorch wrote it before signed rollouts, with one rollout in it.
            command.CommandText = """
                CREATE TABLE rollouts(
                    id INTEGER PRIMARY KEY AUTOINCREMENT, module_id TEXT NOT NULL, selector TEXT NOT NULL, sha256 TEXT NOT NULL,
                    mode TEXT, check_func TEXT NOT NULL, max_failures INTEGER NOT NULL, soak_ms INTEGER NOT NULL, waves INTEGER NOT NULL,
                    state TEXT NOT NULL, wave INTEGER NOT NULL, reason TEXT, created_utc TEXT NOT NULL);
                INSERT INTO rollouts(module_id, selector, sha256, check_func, max_failures, soak_ms, waves, state, wave, created_utc)
                VALUES('v', 'fleet=r', 'abc', 'self_test', 0, 0, 2, 'paused', 1, '2026-12-01T00:00:00.000Z');
                PRAGMA user_version = 2;
                """;
            command.ExecuteNonQuery();
        }
        await using (var state = Open())
        {
            Assert.Equal(new StoredRollout(1, "v", "fleet=r", "abc", null, "self_test", 0, 0, 2, "paused", 1, null, "2026-12-01T00:00:00.000Z", null), state.LatestRollout());
            await state.CreateRolloutAsync("v", "fleet=r", "def", null, "self_test", 0, 0, [["r0"]], signature: "c2ln");
            Assert.Equal("c2ln", state.LatestRollout()!.Signature);
        }
        // Opened again: the file is schema 5 now, nothing is added twice.
        await using var again = Open();
        Assert.Equal("c2ln", again.LatestRollout()!.Signature);
    }

    /// <summary>Issue 34: a rollout's start and end times (the dashboard's Rollout page); the end is stamped once, by the step that ends it.</summary>
    [Fact]
    public async Task A_rollout_keeps_when_it_started_and_when_it_ended()
    {
        await using var state = Open();
        var before = GatewayState.Now();
        var id = await state.CreateRolloutAsync("v", "fleet=r", "def", null, "self_test", 0, 0, [["r0"], ["r1"]]);
        var started = state.LatestRollout()!;
        Assert.True(string.CompareOrdinal(started.CreatedAt, before) >= 0, $"{started.CreatedAt} is before {before}");
        Assert.Null(started.EndedAt);
        await state.SetRolloutAsync(id, "running", 2);
        await state.SetRolloutAsync(id, "paused", 2);
        Assert.Null(state.LatestRollout()!.EndedAt);
        await state.SetRolloutAsync(id, "done", 2);
        var ended = state.LatestRollout()!.EndedAt;
        Assert.NotNull(ended);
        Assert.True(string.CompareOrdinal(ended, started.CreatedAt) >= 0);
        await Task.Delay(5);
        await state.SetRolloutAsync(id, "done", 2, "again");
        Assert.Equal(ended, state.LatestRollout()!.EndedAt);
    }

    /// <summary>Issue 31, bug 7: a device's failure cause is kept when it is then rolled back (its message is replaced).</summary>
    [Fact]
    public async Task A_rollout_devices_failure_survives_its_rollback()
    {
        await using var state = Open();
        var id = await state.CreateRolloutAsync("v", "fleet=r", "def", null, "self_test", 0, 0, [["r0", "r1"]]);
        await state.SetRolloutDeviceAsync(id, "r0", "failed", "failed: check", failure: new RolloutFailure { Kind = "check-trap", Code = "TRAP", Detail = "unreachable", Job = 7 });
        await state.SetRolloutDeviceAsync(id, "r0", "rolled-back", "failed, then put back its previous version");
        var r0 = state.RolloutDevices(id)[0];
        Assert.Equal(("rolled-back", "check-trap", "TRAP", (string?)null, "unreachable", (long?)7),
            (r0.Outcome, r0.Failure!.Kind, r0.Failure.Code, r0.Failure.Value, r0.Failure.Detail, r0.Failure.Job));
        Assert.Null(state.RolloutDevices(id)[1].Failure);
    }

    [Fact]
    public async Task Jobs_lists_newest_first_within_the_limit()
    {
        await using var state = Open();
        for (var job = 1; job <= 30; job++)
        {
            state.RecordJobStarted(job % 2 == 0 ? "even" : "odd", job, "m", "f", null);
        }
        await state.FlushAsync();
        Assert.Equal([30L, 28L, 26L], state.Jobs("even", 3).Select(j => j.Job));
        Assert.Equal(30, state.Jobs(null, 100).Count);
    }

    [Fact]
    public async Task The_job_history_is_bounded_oldest_first()
    {
        await using var state = Open();
        for (var job = 1; job <= GatewayState.JobsKept + 1000; job++)
        {
            state.RecordJobStarted("b", job, "m", "f", null);
        }
        await state.FlushAsync();
        var all = state.Jobs("b", GatewayState.MaxJobsListed);
        Assert.Equal(GatewayState.JobsKept + 1000L, all[0].Job);
        using var connection = new SqliteConnection($"Data Source={_path};Pooling=false");
        connection.Open();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT count(*), min(job) FROM jobs";
        using var row = count.ExecuteReader();
        Assert.True(row.Read());
        Assert.Equal((long)GatewayState.JobsKept, row.GetInt64(0));
        Assert.Equal(1001L, row.GetInt64(1));
    }

    public void Dispose()
    {
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(_path + suffix);
        }
    }
}
