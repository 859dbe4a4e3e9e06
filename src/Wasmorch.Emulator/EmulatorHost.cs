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

    public BoardServer AddBoard(BoardOptions options)
    {
        var logger = _loggers.CreateLogger("Wasmorch.Emulator.Board");
        var board = new Board(options, _runtime, logger);
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
        var server = new SerialBoardServer(new Board(options, _runtime, logger), path, baud, logger);
        server.Start();
        _serialServers.Add(server);
        return server;
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
