using Wasmorch.Protocol.Agent;
using Wasmorch.Testing;

namespace Wasmorch.Emulator.Tests;

/// <summary>
/// Finding 2 of issue 14: any local process could take over a board. A board with a link key
/// takes commands only from a peer that answered its challenge with the key (docs/protocol.md §6a).
/// </summary>
[Collection("boards")]
public sealed class LinkAuthTests
{
    private readonly BoardFixture _boards;

    public LinkAuthTests(BoardFixture boards) => _boards = boards;

    private Task<AgentClient> KeyedBoardAsync() => _boards.NewBoardAsync(o => o with { LinkKey = BoardFixture.LinkKey });

    [Theory]
    [InlineData("STATUS")]
    [InlineData("LOAD module_id=m size=8 crc32=1c4b33ce")]
    [InlineData("START module_id=m func=f")]
    [InlineData("STOP module_id=m")]
    [InlineData("UNLOAD module_id=m")]
    public async Task Before_auth_every_command_but_hello_and_ping_is_refused(string command)
    {
        await using var agent = await KeyedBoardAsync();
        var refused = await agent.RequestAsync(command);
        Assert.Equal(("ERR", "UNAUTHORIZED"), (refused.Verb, refused["code"]));
        Assert.Equal("PONG", (await agent.RequestAsync("PING")).Verb);
        Assert.Contains("AUTH", (await agent.RequestAsync("HELLO proto=1"))["extensions"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_peer_with_another_key_is_refused_and_a_nonce_answers_once()
    {
        await using var agent = await KeyedBoardAsync();
        var hello = await agent.RequestAsync("HELLO proto=1");
        var nonce = LinkAuth.NewNonce();
        var wrongMac = LinkAuth.GatewayMac(new byte[32], hello[LinkAuth.NonceKey]!, nonce);
        Assert.Equal("UNAUTHORIZED", (await agent.RequestAsync($"AUTH nonce={nonce} mac={wrongMac}"))["code"]);
        // The right MAC for the used-up nonce comes too late: a new HELLO gives a new challenge.
        var rightMac = LinkAuth.GatewayMac(BoardFixture.LinkKey, hello[LinkAuth.NonceKey]!, nonce);
        Assert.Equal("UNAUTHORIZED", (await agent.RequestAsync($"AUTH nonce={nonce} mac={rightMac}"))["code"]);
        Assert.Equal("UNAUTHORIZED", (await agent.RequestAsync("STATUS"))["code"]);
    }

    [Fact]
    public async Task The_key_holder_is_answered_with_the_boards_own_proof_and_may_drive_it()
    {
        await using var agent = await KeyedBoardAsync();
        await agent.AuthenticateAsync(BoardFixture.LinkKey);
        Assert.Equal("LOAD_OK", (await agent.LoadAsync("m", ModuleBuilder.Build("math_ops.c"))).Verb);
        Assert.Equal("START_OK", (await agent.RequestAsync("START module_id=m func=add args=\"2,3\"")).Verb);
        Assert.Equal("5", (await agent.ReadUntilAsync("RESULT"))["value"]);
    }

    [Fact]
    public async Task Authentication_belongs_to_the_link_a_new_connection_starts_over()
    {
        var (first, _, port) = await _boards.NewBoardWithStateAsync(o => o with { LinkKey = BoardFixture.LinkKey });
        await first.AuthenticateAsync(BoardFixture.LinkKey);
        Assert.Equal("STATUS", (await first.RequestAsync("STATUS")).Verb);
        await first.DisposeAsync();
        await using var second = await AgentClient.ConnectAsync(port);
        Assert.Equal("UNAUTHORIZED", (await second.RequestAsync("STATUS"))["code"]);
    }
}
