using Microsoft.Extensions.Logging;
using Wasmorch.Gateway.Supervision;

namespace Wasmorch.Gateway.Tests;

public sealed class LoopSupervisorTests
{
    /// <summary>A loop that throws is logged (with its exception) and run again, until it ends by itself.</summary>
    [Fact]
    public async Task A_loop_that_throws_is_logged_and_started_again_after_a_back_off()
    {
        var logger = new RecordingLogger();
        var runs = 0;
        await LoopSupervisor.RunAsync("test loop", _ => ++runs < 3 ? throw new InvalidOperationException($"boom {runs}") : Task.CompletedTask,
            logger, CancellationToken.None, TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20)).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(3, runs);
        Assert.Equal(["boom 1", "boom 2"], logger.Entries.Select(e => e.Exception?.Message));
        Assert.All(logger.Entries, e => Assert.Equal(LogLevel.Error, e.Level));
        Assert.Equal("test loop failed unexpectedly; restart 1 in 10 ms", logger.Entries[0].Message);
        Assert.Equal("test loop failed unexpectedly; restart 2 in 20 ms", logger.Entries[1].Message);
    }

    /// <summary>Cancelled, the supervisor ends quietly, even while it waits out a back-off.</summary>
    [Fact]
    public async Task Cancelling_ends_the_supervisor_without_an_error()
    {
        var logger = new RecordingLogger();
        using var stop = new CancellationTokenSource();
        var supervised = LoopSupervisor.RunAsync("test loop", _ => throw new InvalidOperationException("always"), logger, stop.Token, TimeSpan.FromMinutes(5));
        Assert.Single(logger.Entries);
        await stop.CancelAsync();
        await supervised.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(supervised.IsCompletedSuccessfully);
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
