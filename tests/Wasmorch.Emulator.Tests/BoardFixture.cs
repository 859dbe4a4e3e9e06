using Microsoft.Extensions.Logging.Abstractions;
using Wasmorch.Testing;

namespace Wasmorch.Emulator.Tests;

/// <summary>Emulated boards on real loopback sockets, each test getting a board of its own.</summary>
public sealed class BoardFixture : IAsyncLifetime
{
    /// <summary>The link key of the boards that need one in these tests.</summary>
    public static byte[] LinkKey { get; } = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);

    private EmulatorHost _host = null!;
    private int _count;

    public Task InitializeAsync()
    {
        _host = new EmulatorHost(NullLoggerFactory.Instance);
        return Task.CompletedTask;
    }

    public async Task<AgentClient> NewBoardAsync(Func<BoardOptions, BoardOptions>? configure = null) =>
        (await NewBoardWithStateAsync(configure)).Agent;

    /// <summary>A board and a link to it, for tests that reach into the board's state or open more links.</summary>
    public async Task<(AgentClient Agent, Board Board, int Port)> NewBoardWithStateAsync(Func<BoardOptions, BoardOptions>? configure = null)
    {
        var options = new BoardOptions { Name = $"board{Interlocked.Increment(ref _count)}", Port = 0 };
        var server = _host.AddBoard(configure is null ? options : configure(options));
        return (await AgentClient.ConnectAsync(server.LocalEndpoint.Port), server.Board, server.LocalEndpoint.Port);
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();
}

[CollectionDefinition("boards")]
public sealed class BoardsDefinition : ICollectionFixture<BoardFixture>;
