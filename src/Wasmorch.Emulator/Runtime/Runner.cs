using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Modules;
using Wasmtime;

namespace Wasmorch.Emulator.Runtime;

/// <summary>
/// The RUNNER of one board: at most one job, on a thread of its own (see <see cref="RunnerThreads"/>)
/// so that the COMM loop keeps answering STATUS and STOP. A job always ends in exactly one RESULT line.
/// </summary>
public sealed partial class Runner
{
    private readonly Board _board;
    private readonly WasmRuntime _runtime;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private JobContext? _current;

    public Runner(Board board, WasmRuntime runtime, ILogger logger)
    {
        _board = board;
        _runtime = runtime;
        _logger = logger;
    }

    public JobContext? Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    public bool IsRunning(string moduleId) => Current?.ModuleId == moduleId;

    /// <summary>
    /// Reserves the runner for a job unless one is running. The job runs only once <paramref name="go"/>
    /// is called, so the caller can put START_OK on the wire first (START_OK always precedes RESULT);
    /// the caller must call it, or the runner stays reserved.
    /// </summary>
    public JobContext? TryReserve(LoadedModule module, string func, ValueBox[] args, int jobId, out Action go)
    {
        JobContext job;
        go = static () => { };
        lock (_gate)
        {
            if (_current is not null)
            {
                return null;
            }
            job = new JobContext(jobId, module.Id, func, _board);
            _current = job;
        }
        go = () => RunnerThreads.Run(() => Run(job, module, args));
        return job;
    }

    /// <summary>Asks the running job of <paramref name="moduleId"/> to stop; terminates it after the grace period.</summary>
    public bool RequestStop(string moduleId)
    {
        var job = Current;
        if (job is null || job.ModuleId != moduleId)
        {
            return false;
        }
        job.RequestStop();
        _ = KillAfterGraceAsync(job);
        return true;
    }

    private async Task KillAfterGraceAsync(JobContext job)
    {
        await Task.Delay(_board.Options.StopGracePeriod);
        if (ReferenceEquals(Current, job))
        {
            LogKilling(_logger, _board.Name, job.Job);
            job.RequestKill();
        }
    }

    /// <summary>Calls the export; a seam for tests that make a job fail in a way no module can.</summary>
    internal Func<Function, ValueBox[], object?> InvokeExport { get; set; } = static (function, args) => function.Invoke(args);

    private void Run(JobContext job, LoadedModule module, ValueBox[] args)
    {
        var clock = Stopwatch.StartNew();
        var outcome = new JobOutcome(JobStatus.Trap, null, null, null);
        try
        {
            outcome = Execute(job, module, args);
        }
        catch (Exception ex) when (ex is WasmtimeException or InvalidOperationException or ArgumentException)
        {
            outcome = job.StopRequested
                ? new(JobStatus.Stopped, null, null, job.KillRequested ? "terminated after the STOP grace period" : "stopped")
                : new(JobStatus.Trap, null, null, TrapMessages.Describe(ex));
        }
        catch (Exception ex)
        {
            // Whatever went wrong, the job ends with a RESULT that says why and the board is IDLE again (§3, §4).
            LogJobFailed(_logger, ex, _board.Name, job.Job);
            outcome = new(JobStatus.Trap, null, null, $"agent: {ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            lock (_gate)
            {
                _current = null;
            }
            job.Dispose();
            // The firmware core's field order (wm_format_result): msg last, where a long one is shortened.
            var result = job.ResultLine(outcome.Status);
            if (outcome.Value is not null)
            {
                result.Add(AgentKeys.Value, outcome.Value).Add(AgentKeys.Type, outcome.Type!);
            }
            result.Add(AgentKeys.ElapsedUs, (long)clock.Elapsed.TotalMicroseconds).AddIfNotNull(AgentKeys.Msg, outcome.Message);
            _board.Emit(result);
        }
    }

    private JobOutcome Execute(JobContext job, LoadedModule module, ValueBox[] args)
    {
        using var store = new Store(_runtime.Engine, job);
        // The board's limits hold at run time too: memory.grow and table.grow past them fail.
        store.SetLimits(memorySize: _board.Options.MaxLinearMemoryBytes, tableElements: BoardLimits.TableElements, memories: BoardLimits.Memories);
        store.SetEpochDeadline(1);
        store.SetEpochDeadlineCallback(_ => job.KillRequested ? throw new JobKilledException() : 1UL);
        var instance = _runtime.Linker.Instantiate(store, module.Module);
        var function = instance.GetFunction(job.Func)
            ?? throw new InvalidOperationException($"export '{job.Func}' vanished");
        var value = InvokeExport(function, args);
        var status = job.StopRequested ? JobStatus.Stopped : JobStatus.Ok;
        return function.Results.Count > 0
            ? new(status, WasmValues.Format(value), WasmValues.TypeName(function.Results[0]), null)
            : new(status, null, null, null);
    }

    private readonly record struct JobOutcome(string Status, string? Value, string? Type, string? Message);

    [LoggerMessage(Level = LogLevel.Error, Message = "Board {Board}: job {Job} failed inside the agent")]
    private static partial void LogJobFailed(ILogger logger, Exception exception, string board, int job);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Board {Board}: job {Job} ignored STOP for the grace period; terminating it")]
    private static partial void LogKilling(ILogger logger, string board, int job);
}
