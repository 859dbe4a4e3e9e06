namespace Wasmorch.Emulator.Runtime;

/// <summary>
/// The threads jobs run on, shared by every board of the process. A job may block for as long as
/// it likes (a module looping over delay_ms), so a job always gets a thread of its own, but a
/// thread outlives its job for a while and takes the next one: a START pays for creating a thread
/// only when every existing one is busy, and a fleet of boards needs about as many threads as
/// jobs run at once, not one per board.
/// </summary>
internal static class RunnerThreads
{
    /// <summary>Comfortably above Wasmtime's own wasm stack limit.</summary>
    private const int StackBytes = 4 * 1024 * 1024;

    private static readonly TimeSpan IdleLifetime = TimeSpan.FromSeconds(10);
    private static readonly object Gate = new();
    private static readonly LinkedList<Worker> Idle = new();

    public static void Run(Action job)
    {
        Worker? idle = null;
        lock (Gate)
        {
            if (Idle.Last is { } last)
            {
                idle = last.Value;
                Idle.RemoveLast();
            }
        }
        if (idle is null)
        {
            var worker = new Worker(job);
            new Thread(worker.Loop, StackBytes) { IsBackground = true, Name = "runner" }.Start();
            return;
        }
        lock (idle)
        {
            idle.Job = job;
            Monitor.Pulse(idle);
        }
    }

    private sealed class Worker
    {
        private readonly LinkedListNode<Worker> _node;

        public Worker(Action job)
        {
            Job = job;
            _node = new LinkedListNode<Worker>(this);
        }

        /// <summary>Set under this worker's monitor, by the worker's creator or by <see cref="Run"/>.</summary>
        public Action? Job { get; set; }

        public void Loop()
        {
            while (true)
            {
                Action job;
                lock (this)
                {
                    job = Job!;
                    Job = null;
                }
                job();
                lock (this)
                {
                    lock (Gate)
                    {
                        Idle.AddLast(_node);
                    }
                    while (Job is null)
                    {
                        if (!Monitor.Wait(this, IdleLifetime) && Job is null)
                        {
                            lock (Gate)
                            {
                                // Still idle and nobody took it: retire. Otherwise Run is about to hand it a job.
                                if (_node.List is not null)
                                {
                                    Idle.Remove(_node);
                                    return;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
