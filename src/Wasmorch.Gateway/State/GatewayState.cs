using System.Globalization;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.State;

/// <summary>
/// What the gateway remembers across restarts: the device map it served, which module and CRC each
/// device holds, the artifact cache index and the job history, in one SQLite file (WAL).
/// </summary>
/// <remarks>
/// Writes go through one writer loop that commits whatever is queued in a single transaction, so
/// the request path pays a channel write, not a disk write, and a <c>kill -9</c> at any moment
/// leaves the file at the last committed batch: never half a deploy or half a job. Deploys await
/// their commit (a deploy that answered OK is on disk); job events do not (the device stays the
/// truth for what runs; the history may miss the last few milliseconds).
/// </remarks>
public sealed partial class GatewayState : IAsyncDisposable
{
    private const int SchemaVersion = 5;
    private const string LostOnRestart = "the gateway stopped while the job ran; its result was not seen";

    private readonly Channel<StateWrite> _writes = Channel.CreateUnbounded<StateWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SqliteConnection _writer;
    private readonly SqliteConnection _reader;
    private readonly Lock _readLock = new();
    private readonly ILogger _logger;
    private readonly Task _writerLoop;

    /// <summary>The last module list each device's STATUS reported (what the record was reconciled to).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _lastReported = new(StringComparer.Ordinal);

    private GatewayState(string path, ILogger logger)
    {
        Path = path;
        _logger = logger;
        _writer = OpenConnection(path);
        _reader = OpenConnection(path);
        _writerLoop = Task.Run(WriteLoopAsync);
    }

    public string Path { get; }

    /// <summary>Opens (or creates) the state file; a file that is not a sound database is moved aside, never trusted.</summary>
    public static GatewayState Open(string path, ILogger logger)
    {
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (dir is not null)
        {
            Directory.CreateDirectory(dir);
            // A directory the gateway cannot write makes a sound file look broken (no -wal, no -shm):
            // say what it is instead of moving a good file aside.
            try
            {
                using var probe = new FileStream(System.IO.Path.Combine(dir, $".wasmorch-write-test-{Environment.ProcessId}"), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
            {
                throw new IOException($"the state directory {dir} is not writable ({ex.Message}); fix its permissions or choose another file with --state", ex);
            }
        }
        if (File.Exists(path) && new FileInfo(path).Length == 0)
        {
            LogEmptyFile(logger, path);
            File.Delete(path);
        }
        if (!IsSound(path, out var problem))
        {
            var aside = $"{path}.corrupt-{DateTime.UtcNow:yyyyMMddTHHmmss}";
            foreach (var suffix in new[] { string.Empty, "-wal", "-shm" })
            {
                if (File.Exists(path + suffix))
                {
                    File.Move(path + suffix, aside + suffix, overwrite: true);
                }
            }
            LogMovedAside(logger, path, problem, aside);
        }
        if (!File.Exists(path) && !OperatingSystem.IsWindows())
        {
            // Private from the start: SQLite gives its -wal and -shm files the database's mode.
            using var create = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        using (var setup = OpenConnection(path))
        {
            CreateSchema(setup);
            Execute(setup, "UPDATE jobs SET status = 'LOST', message = $m, ended_utc = $t WHERE status = 'RUNNING'",
                ("$m", LostOnRestart), ("$t", Now()));
        }
        return new GatewayState(path, logger);
    }

    /// <summary>The default file: one per gateway port under the user's state directory.</summary>
    public static string DefaultPath(int port)
    {
        var state = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        if (string.IsNullOrEmpty(state))
        {
            state = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state");
        }
        return System.IO.Path.Combine(state, "wasmorch", $"gateway-{port}.db");
    }

    private static bool IsSound(string path, out string problem)
    {
        problem = string.Empty;
        if (!File.Exists(path))
        {
            return true;
        }
        try
        {
            using var connection = OpenConnection(path);
            using var check = connection.CreateCommand();
            check.CommandText = "PRAGMA quick_check";
            var verdict = check.ExecuteScalar() as string;
            if (verdict == "ok")
            {
                return true;
            }
            problem = verdict ?? "quick_check gave no answer";
        }
        catch (SqliteException ex)
        {
            problem = ex.Message;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
        }
        return false;
    }

    private static SqliteConnection OpenConnection(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        // WAL + NORMAL: a committed transaction survives the process being killed (not a power cut,
        // which costs at most the last commits, never consistency); readers never block the writer.
        Execute(connection, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON");
        return connection;
    }

    private static void CreateSchema(SqliteConnection connection)
    {
        using var version = connection.CreateCommand();
        version.CommandText = "PRAGMA user_version";
        var current = Convert.ToInt32(version.ExecuteScalar(), CultureInfo.InvariantCulture);
        if (current > SchemaVersion)
        {
            throw new Config.ConfigException($"the state file was written by a newer wasmorch (schema {current}, this one knows {SchemaVersion})");
        }
        Execute(connection, """
            BEGIN;
            CREATE TABLE IF NOT EXISTS devices(
                name TEXT PRIMARY KEY, endpoint TEXT NOT NULL, agent TEXT, last_seen_utc TEXT);
            CREATE TABLE IF NOT EXISTS modules(
                device TEXT NOT NULL, module_id TEXT NOT NULL, crc32 TEXT NOT NULL, sha256 TEXT,
                size INTEGER, artifact TEXT, deployed_utc TEXT, exports TEXT, PRIMARY KEY(device, module_id));
            CREATE TABLE IF NOT EXISTS jobs(
                id INTEGER PRIMARY KEY AUTOINCREMENT, device TEXT NOT NULL, job INTEGER NOT NULL,
                module_id TEXT NOT NULL, func TEXT NOT NULL, args TEXT, status TEXT NOT NULL,
                value TEXT, message TEXT, elapsed_us INTEGER, started_utc TEXT NOT NULL, ended_utc TEXT);
            CREATE INDEX IF NOT EXISTS jobs_by_device ON jobs(device, job);
            CREATE TABLE IF NOT EXISTS artifacts(
                key TEXT PRIMARY KEY, kind TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
                created_utc TEXT NOT NULL, last_used_utc TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS versions(
                module_id TEXT NOT NULL, version INTEGER NOT NULL, sha256 TEXT NOT NULL, crc32 TEXT NOT NULL,
                size INTEGER NOT NULL, artifact TEXT, source_sha256 TEXT, signed INTEGER NOT NULL, by TEXT,
                created_utc TEXT NOT NULL, PRIMARY KEY(module_id, version), UNIQUE(module_id, sha256));
            CREATE TABLE IF NOT EXISTS desired(
                position INTEGER PRIMARY KEY, module_id TEXT NOT NULL, selector TEXT NOT NULL, sha256 TEXT NOT NULL,
                mode TEXT, autostart TEXT);
            CREATE TABLE IF NOT EXISTS rollouts(
                id INTEGER PRIMARY KEY AUTOINCREMENT, module_id TEXT NOT NULL, selector TEXT NOT NULL, sha256 TEXT NOT NULL,
                mode TEXT, check_func TEXT NOT NULL, max_failures INTEGER NOT NULL, soak_ms INTEGER NOT NULL, waves INTEGER NOT NULL,
                state TEXT NOT NULL, wave INTEGER NOT NULL, reason TEXT, created_utc TEXT NOT NULL, signature TEXT, ended_utc TEXT);
            CREATE TABLE IF NOT EXISTS rollout_devices(
                rollout_id INTEGER NOT NULL, device TEXT NOT NULL, wave INTEGER NOT NULL, outcome TEXT NOT NULL,
                message TEXT, previous_sha256 TEXT, failure_kind TEXT, failure_code TEXT, failure_value TEXT, failure_detail TEXT, failure_job INTEGER,
                PRIMARY KEY(rollout_id, device));
            COMMIT;
            """);
        if (current == 2)
        {
            // Schema 2's rollouts had no signature: signed rollouts came with schema 3.
            Execute(connection, "ALTER TABLE rollouts ADD COLUMN signature TEXT");
        }
        // A file older than schema 2 had no rollout_devices until the CREATE above, which has the columns.
        if (current is 2 or 3 && !HasColumn(connection, "rollout_devices", "failure_kind"))
        {
            // Schema 4 keeps why a device failed a rollout in typed columns (its message is replaced when it is rolled back).
            Execute(connection, """
                ALTER TABLE rollout_devices ADD COLUMN failure_kind TEXT; ALTER TABLE rollout_devices ADD COLUMN failure_code TEXT;
                ALTER TABLE rollout_devices ADD COLUMN failure_value TEXT; ALTER TABLE rollout_devices ADD COLUMN failure_detail TEXT;
                ALTER TABLE rollout_devices ADD COLUMN failure_job INTEGER
                """);
        }
        // A file older than schema 5 had rollouts without their end time (ended ones keep none: their end was not recorded)
        // and modules without their exports (known again at their next deploy).
        if (!HasColumn(connection, "rollouts", "ended_utc"))
        {
            Execute(connection, "ALTER TABLE rollouts ADD COLUMN ended_utc TEXT");
        }
        if (!HasColumn(connection, "modules", "exports"))
        {
            Execute(connection, "ALTER TABLE modules ADD COLUMN exports TEXT");
        }
        Execute(connection, $"PRAGMA user_version = {SchemaVersion}");
    }

    private static bool HasColumn(SqliteConnection connection, string table, string column)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM pragma_table_info('{table}') WHERE name = $c";
        command.Parameters.AddWithValue("$c", column);
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture) > 0;
    }

    internal static string Now() => DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static void Execute(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        command.ExecuteNonQuery();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "State file {Path} was unreadable ({Problem}); moved it to {Aside} and started afresh")]
    private static partial void LogMovedAside(ILogger logger, string path, string problem, string aside);

    [LoggerMessage(Level = LogLevel.Warning, Message = "State file {Path} was empty (0 bytes): starting a new one; nothing was recorded in it")]
    private static partial void LogEmptyFile(ILogger logger, string path);
}
