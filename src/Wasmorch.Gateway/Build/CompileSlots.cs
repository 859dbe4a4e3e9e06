namespace Wasmorch.Gateway.Build;

/// <summary>
/// Bounds the compilers that run at once, so hostile or merely many builds cannot take the
/// machine: at most <see cref="Parallel"/> compiles, each under the sandbox's memory cap, so all of
/// them together take at most Parallel × that cap. The rest wait their turn, in order, and are told
/// how many are ahead of them.
/// </summary>
public sealed class CompileSlots : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private int _waiting;

    public CompileSlots(int parallel)
    {
        Parallel = parallel;
        _slots = new SemaphoreSlim(parallel, parallel);
    }

    public int Parallel { get; }

    /// <summary>Compiles waiting for a slot now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>As many compiles as the machine has cores, and no more than half its memory holds at <paramref name="perCompileBytes"/> each.</summary>
    public static int DefaultParallel(long perCompileBytes)
    {
        var memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        var byMemory = memory > 0 ? (int)Math.Max(1, memory / 2 / perCompileBytes) : 1;
        return Math.Clamp(Math.Min(Environment.ProcessorCount, byMemory), 1, 64);
    }

    /// <summary>Runs <paramref name="compile"/> in its turn; <paramref name="queued"/> hears how many are ahead when it must wait.</summary>
    public async Task<T> RunAsync<T>(Func<Task<T>> compile, Action<int>? queued, CancellationToken ct)
    {
        if (!_slots.Wait(0, ct))
        {
            var ahead = Interlocked.Increment(ref _waiting);
            try
            {
                queued?.Invoke(ahead);
                await _slots.WaitAsync(ct);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }
        try
        {
            return await compile();
        }
        finally
        {
            _slots.Release();
        }
    }

    public void Dispose() => _slots.Dispose();
}
