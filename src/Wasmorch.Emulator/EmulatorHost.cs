using Microsoft.Extensions.Logging;
using Wasmorch.Emulator.Link;
using Wasmorch.Emulator.Runtime;

namespace Wasmorch.Emulator;

/// <summary>Runs many boards in one process over one Wasmtime engine.</summary>
public sealed class EmulatorHost : IAsyncDisposable
{
    private readonly WasmRuntime _runtime = new();
    private readonly List<BoardServer> _servers = [];
    private readonly List<SerialBoardServer> _serialServers = [];
    private readonly ILoggerFactory _loggers;

    public EmulatorHost(ILoggerFactory loggers) => _loggers = loggers;

    public IReadOnlyList<BoardServer> Servers => _servers;

    /// <exception cref="ArgumentException">The board's HELLO_OK would not fit a protocol line (its name is too long for its options).</exception>
    public BoardServer AddBoard(BoardOptions options)
    {
        var logger = _loggers.CreateLogger("Wasmorch.Emulator.Board");
        var board = HelloChecked(new Board(options, _runtime, logger));
        var server = new BoardServer(board, logger);
        server.Start();
        _servers.Add(server);
        return server;
    }

    /// <summary>The board loses power: its server stops and its RAM (modules, jobs) is gone.</summary>
    public async Task RemoveBoardAsync(BoardServer server)
    {
        _servers.Remove(server);
        await server.DisposeAsync();
        server.Board.Dispose();
    }

    /// <summary>A board on a tty, throttled to <paramref name="baud"/> like a UART.</summary>
    public SerialBoardServer AddSerialBoard(BoardOptions options, string path, int baud)
    {
        var logger = _loggers.CreateLogger("Wasmorch.Emulator.Board");
        var server = new SerialBoardServer(HelloChecked(new Board(options, _runtime, logger)), path, baud, logger);
        server.Start();
        _serialServers.Add(server);
        return server;
    }

    /// <summary>
    /// HELLO_OK carries the board's name beside every offer (§6): a board whose name would push it
    /// past 256 bytes (a link key adds AUTH and a 32-digit nonce) is refused here, before any peer
    /// could receive a line it must reject. Returns the board when it fits; disposes it otherwise.
    /// </summary>
    private static Board HelloChecked(Board board)
    {
        var options = board.Options;
        if (options.Baseline)
        {
            return board;
        }
        var hello = new Agent.CommandHandler(board).Hello(options.LinkKey is null ? null : new string('0', Protocol.Agent.LinkAuth.NonceBytes * 2));
        if (hello.FitsWhole)
        {
            return board;
        }
        board.Dispose();
        var room = options.Name.Length - (hello.ToBytes().Length - Protocol.Agent.ProtocolLimits.MaxLineLength);
        throw new ArgumentException(
            $"board name '{options.Name}' makes its HELLO_OK longer than a protocol line (256 bytes); with these options the name may have at most {room} characters" +
            (options.LinkKey is null ? "" : " (a link key adds AUTH and its nonce)"), nameof(board));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _serialServers)
        {
            await server.DisposeAsync();
            server.Board.Dispose();
        }
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
            server.Board.Dispose();
        }
        _runtime.Dispose();
    }
}
