using System.Diagnostics;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Api.Deploy;

/// <summary>Upload progress as host events: at most every 100 ms, and always for the last byte.</summary>
public static class ProgressEvents
{
    /// <remarks><paramref name="emit"/> never throws (the server logs a lost event), so it is not awaited here.</remarks>
    public static IProgress<long> For(HostRequest request, long total, Func<HostResponse, Task> emit)
    {
        var last = Stopwatch.StartNew();
        return new SynchronousProgress(sent =>
        {
            if (sent < total && last.ElapsedMilliseconds < 100)
            {
                return;
            }
            last.Restart();
            _ = emit(new HostResponse { Id = request.Id, Ok = true, Event = "progress", Device = request.Device, Progress = new UploadProgress { Sent = sent, Total = total } });
        });
    }

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; would post to the thread pool and reorder events).</summary>
    private sealed class SynchronousProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
