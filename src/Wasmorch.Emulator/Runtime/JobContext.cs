using Wasmorch.Protocol.Agent;

namespace Wasmorch.Emulator.Runtime;

/// <summary>The state one running job shares with its natives and with the COMM thread that may stop it.</summary>
public sealed class JobContext : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private volatile bool _killRequested;

    public JobContext(int job, string moduleId, string func, Board board)
    {
        Job = job;
        ModuleId = moduleId;
        Func = func;
        Board = board;
        Events = new Peripherals.EventBucket(board.Options.EventsPerSecond, board.Options.EventBurst);
        Edges = new EdgeLatch(board.Gpio);
    }

    /// <summary>The GPIO edges since the job started that gpio_wait_edge has not yet returned.</summary>
    public EdgeLatch Edges { get; }

    /// <summary>This job's share of the link for events (§6c).</summary>
    public Peripherals.EventBucket Events { get; }

    /// <summary>timer_start's period, or zero before it; the next tick on the board's clock.</summary>
    public TimeSpan TimerPeriod { get; set; }

    public TimeSpan TimerNext { get; set; }

    public int Job { get; }

    public string ModuleId { get; }

    public string Func { get; }

    public Board Board { get; }

    public bool StopRequested => _stop.IsCancellationRequested;

    /// <summary>Set after the grace period: the epoch callback then terminates the instance.</summary>
    public bool KillRequested => _killRequested;

    public WaitHandle StopHandle => _stop.Token.WaitHandle;

    public void RequestStop() => _stop.Cancel();

    public void RequestKill() => _killRequested = true;

    public AgentLineBuilder ResultLine(string status) =>
        new AgentLineBuilder(AgentVerbs.Result)
            .Add(AgentKeys.ModuleId, ModuleId)
            .Add(AgentKeys.Func, Func)
            .Add(AgentKeys.Job, Job)
            .Add(AgentKeys.Status, status);

    public void Dispose()
    {
        Edges.Dispose();
        _stop.Dispose();
    }
}

/// <summary>Thrown from the epoch callback to end a job that ignored STOP past its grace period.</summary>
public sealed class JobKilledException : Exception
{
    public JobKilledException()
        : base("terminated by the runtime after the STOP grace period")
    {
    }

    public JobKilledException(string message)
        : base(message)
    {
    }

    public JobKilledException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
