using Microsoft.Extensions.Logging;
using Wasmorch.Emulator.Agent;
using Wasmorch.Transport;

namespace Wasmorch.Emulator.Link;

/// <summary>
/// Serves one board on a tty (one side of a socat pty pair, or a real UART adapter), throttled to
/// the baud rate. When the tty vanishes the board waits for it to come back, as a board on a
/// USB-serial cable does.
/// </summary>
public sealed partial class SerialBoardServer : IAsyncDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

    private readonly Board _board;
    private readonly string _path;
    private readonly int _baud;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    public SerialBoardServer(Board board, string path, int baud, ILogger logger)
    {
        _board = board;
        _path = path;
        _baud = baud;
        _logger = logger;
    }

    public Board Board => _board;

    public string Description => $"serial://{_path}?baud={_baud}";

    public void Start() => _loop = ServeAsync(_stopping.Token);

    private async Task ServeAsync(CancellationToken ct)
    {
        var announced = false;
        while (!ct.IsCancellationRequested)
        {
            Stream stream;
            try
            {
                stream = SerialPorts.Open(_path, _baud);
            }
            catch (LinkUnavailableException ex)
            {
                if (!announced)
                {
                    LogWaiting(_logger, _board.Name, ex.Message);
                    announced = true;
                }
                await Delay(ct);
                continue;
            }
            announced = false;
            LogOpened(_logger, _board.Name, _path, _baud);
            try
            {
                await using var throttled = new ThrottledStream(stream, ThrottledStream.BytesPerSecond(_baud));
                using var connection = new AgentConnection(_board, _logger);
                await connection.RunAsync(throttled, ct);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or UnauthorizedAccessException)
            {
                LogClosed(_logger, _board.Name, ex.Message);
            }
            await Delay(ct);
        }
    }

    private static async Task Delay(CancellationToken ct)
    {
        try
        {
            await Task.Delay(RetryDelay, ct);
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        if (_loop is not null)
        {
            await _loop;
        }
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Board {Board}: waiting for its tty: {Reason}")]
    private static partial void LogWaiting(ILogger logger, string board, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Board {Board}: serving {Path} at {Baud} baud")]
    private static partial void LogOpened(ILogger logger, string board, string path, int baud);

    [LoggerMessage(Level = LogLevel.Information, Message = "Board {Board}: tty closed: {Reason}")]
    private static partial void LogClosed(ILogger logger, string board, string reason);
}
