using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Wasmorch.Gateway.Desired;
using Wasmorch.Gateway.Fleet;
using Wasmorch.Gateway.State;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Tests;

/// <summary>
/// The fleet's background loops run supervised (issue 31): an exception a loop does not name no
/// longer ends it silently. The fault is injected through the follower's seam, its <see cref="IFleet"/>.
/// </summary>
public sealed class FleetLoopSupervisionTests : IAsyncDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"wasmorch-follower-{Guid.NewGuid():n}.db");
    private readonly GatewayState _state;

    public FleetLoopSupervisionTests() => _state = GatewayState.Open(_path, NullLogger.Instance);

    [Fact]
    public async Task The_desired_state_follower_is_logged_and_started_again_after_an_exception_it_does_not_name()
    {
        var fleet = new FaultyFleet();
        var logger = new RecordingLogger();
        await using var reconciler = new Reconciler(_state, NullLogger.Instance);
        var follower = new FleetDesiredFollower(fleet, reconciler, (_, _, _) => Task.FromResult(new HostResponse { Ok = true }),
            FleetTimings.Default with { DesiredRetry = TimeSpan.FromMilliseconds(10) }, logger);
        using var stop = new CancellationTokenSource();

        var following = follower.RunAsync(stop.Token);
        // The second watch is the restart: the first one threw an InvalidOperationException the follower does not catch itself.
        await fleet.SecondWatch.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var failure = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Error, failure.Level);
        Assert.IsType<InvalidOperationException>(failure.Exception);
        Assert.Equal("fleet desired state follower failed unexpectedly; restart 1 in 10 ms", failure.Message);
        Assert.False(following.IsCompleted);
        await stop.CancelAsync();
        await following.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(following.IsCompletedSuccessfully);
    }

    public async ValueTask DisposeAsync()
    {
        await _state.DisposeAsync();
        File.Delete(_path);
    }

    /// <summary>A fleet whose first watch of the desired state fails with a bug-like exception; the next one waits quietly.</summary>
    private sealed class FaultyFleet : IFleet
    {
        private int _watches;

        public TaskCompletionSource SecondWatch { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string GatewayName => "gw-test";

        public async IAsyncEnumerable<(byte[] Document, bool Current)> WatchDesiredAsync([EnumeratorCancellation] CancellationToken ct)
        {
            if (Interlocked.Increment(ref _watches) == 1)
            {
                throw new InvalidOperationException("injected: a fault the follower does not name");
            }
            SecondWatch.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            yield break;
        }

        public Task JoinAsync(IReadOnlyCollection<string> devices, Func<string, IReadOnlyDictionary<string, string>?> labelsOf, ServeForwarded serve, CancellationToken ct) => throw new NotSupportedException();

        public Task<string?> OwnerOfAsync(string device, CancellationToken ct) => throw new NotSupportedException();

        public Task<HostResponse> ForwardAsync(string gateway, HostRequest request, Func<HostResponse, Task>? emit, CancellationToken ct) => throw new NotSupportedException();

        public Task<IReadOnlyList<(string Device, string Gateway, IReadOnlyDictionary<string, string>? Labels)>> DevicesAsync(CancellationToken ct) => throw new NotSupportedException();

        public void PublishLog(LogEntry entry) => throw new NotSupportedException();

        public Task<List<LogEntry>?> RecentLogsAsync(int count, CancellationToken ct) => throw new NotSupportedException();

        public IAsyncEnumerable<LogEntry> FollowLogsAsync(CancellationToken ct) => throw new NotSupportedException();

        public void PublishEvent(ModuleEvent entry) => throw new NotSupportedException();

        public IAsyncEnumerable<ModuleEvent> FollowEventsAsync(CancellationToken ct) => throw new NotSupportedException();

        public void PublishChange(HostResponse change) => throw new NotSupportedException();

        public IAsyncEnumerable<HostResponse> FollowChangesAsync(CancellationToken ct) => throw new NotSupportedException();

        public void PublishJob(JobRecord job) => throw new NotSupportedException();

        public Task<List<JobRecord>?> RecentJobsAsync(string? device, int limit, CancellationToken ct) => throw new NotSupportedException();

        public Task PutDesiredAsync(byte[] document, CancellationToken ct) => throw new NotSupportedException();

        public Task<string?> RolloutCoordinatorAsync(CancellationToken ct) => throw new NotSupportedException();

        public Task<bool> TakeRolloutsAsync(string? current, CancellationToken ct) => throw new NotSupportedException();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class RecordingLogger : ILogger
    {
        public List<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Entries)
            {
                Entries.Add((logLevel, formatter(state, exception), exception));
            }
        }
    }
}
