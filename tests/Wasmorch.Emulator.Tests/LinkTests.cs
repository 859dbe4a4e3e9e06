using System.Text;
using Wasmorch.Protocol.Agent;
using Wasmorch.Testing;

namespace Wasmorch.Emulator.Tests;

/// <summary>The COMM side: LOAD payloads in any fragmentation, bad input, and recovery to line mode.</summary>
[Collection("boards")]
public sealed class LinkTests
{
    private readonly BoardFixture _boards;

    public LinkTests(BoardFixture boards) => _boards = boards;

    private static byte[] MathOps => ModuleBuilder.Build("math_ops.c");

    private static string LoadLine(string id, byte[] module) =>
        $"LOAD module_id={id} size={module.Length} crc32={Crc32Hex.Format(Crc32Hex.Compute(module))}";

    [Fact]
    public async Task Payload_written_one_byte_at_a_time_is_assembled()
    {
        await using var agent = await _boards.NewBoardAsync();
        Assert.Equal("LOAD_READY", (await agent.RequestAsync(LoadLine("m", MathOps))).Verb);
        foreach (var b in MathOps)
        {
            await agent.SendRawAsync([b]);
        }
        Assert.Equal("LOAD_OK", (await agent.ReadParsedAsync()).Verb);
    }

    [Fact]
    public async Task Payload_and_the_next_command_in_one_write_are_both_taken()
    {
        await using var agent = await _boards.NewBoardAsync();
        Assert.Equal("LOAD_READY", (await agent.RequestAsync(LoadLine("m", MathOps))).Verb);
        await agent.SendRawAsync([.. MathOps, .. "STATUS\n"u8.ToArray()]);
        Assert.Equal("LOAD_OK", (await agent.ReadParsedAsync()).Verb);
        var status = await agent.ReadParsedAsync();
        Assert.Equal(("STATUS", "m"), (status.Verb, status["modules"]));
    }

    [Fact]
    public async Task Crc_mismatch_is_refused_and_the_old_module_stays()
    {
        await using var agent = await _boards.NewBoardAsync();
        Assert.Equal("LOAD_OK", (await agent.LoadAsync("m", MathOps)).Verb);
        var refused = await agent.LoadAsync("m", ModuleBuilder.Build("toggle_forever.c"), crc: 0xdeadbeef);
        Assert.Equal(("LOAD_ERR", "CRC_MISMATCH"), (refused.Verb, refused["code"]));
        Assert.Contains("deadbeef", refused["msg"], StringComparison.Ordinal);
        Assert.Equal("START_OK", (await agent.RequestAsync("START module_id=m func=add args=\"1,2\"")).Verb);
        Assert.Equal("3", (await agent.ReadUntilAsync("RESULT"))["value"]);
    }

    [Fact]
    public async Task Invalid_module_replacing_an_idle_one_keeps_the_old_one()
    {
        await using var agent = await _boards.NewBoardAsync();
        Assert.Equal("LOAD_OK", (await agent.LoadAsync("m", MathOps)).Verb);
        var garbage = Encoding.ASCII.GetBytes("this is not a wasm module");
        var refused = await agent.LoadAsync("m", garbage);
        Assert.Equal(("LOAD_ERR", "INVALID_MODULE"), (refused.Verb, refused["code"]));
        Assert.Equal("START_OK", (await agent.RequestAsync("START module_id=m func=mul args=\"6,7\"")).Verb);
        Assert.Equal("42", (await agent.ReadUntilAsync("RESULT"))["value"]);
        // A valid replacement does take effect.
        Assert.Equal("LOAD_OK", (await agent.LoadAsync("m", ModuleBuilder.Build("toggle_forever.c"))).Verb);
        Assert.Equal("NO_FUNC", (await agent.RequestAsync("START module_id=m func=mul args=\"6,7\""))["status"]);
    }

    [Fact]
    public async Task Stalled_payload_times_out_back_to_line_mode()
    {
        await using var agent = await _boards.NewBoardAsync(o => o with { LoadTimeout = TimeSpan.FromMilliseconds(200) });
        Assert.Equal("LOAD_READY", (await agent.RequestAsync(LoadLine("m", MathOps))).Verb);
        await agent.SendRawAsync(MathOps[..100]);
        var timeout = await agent.ReadParsedAsync(TimeSpan.FromSeconds(3));
        Assert.Equal(("LOAD_ERR", "TIMEOUT"), (timeout.Verb, timeout["code"]));
        var status = await agent.RequestAsync("STATUS");
        Assert.Equal(("STATUS", "-"), (status.Verb, status["modules"]));
    }

    [Theory]
    [InlineData("LOAD module_id=m size=100000 crc32=00000000", "TOO_LARGE")]
    [InlineData("LOAD module_id=m size=0 crc32=00000000", "BAD_ARGS")]
    [InlineData("LOAD module_id=m size=10 crc32=xyz", "BAD_ARGS")]
    [InlineData("LOAD module_id=m crc32=00000000", "BAD_ARGS")]
    [InlineData("LOAD module_id=../x size=10 crc32=00000000", "BAD_ARGS")]
    [InlineData("LOAD module_id=m module_id=n size=10 crc32=00000000", "BAD_COMMAND")]
    [InlineData("FLASH everything=now", "BAD_COMMAND")]
    [InlineData("status", "BAD_COMMAND")]
    [InlineData("START func=add", "BAD_ARGS")]
    [InlineData("STOP", "BAD_ARGS")]
    public async Task Bad_commands_get_err_and_the_link_keeps_working(string line, string code)
    {
        await using var agent = await _boards.NewBoardAsync();
        var reply = await agent.RequestAsync(line);
        Assert.Equal(("ERR", code), (reply.Verb, reply["code"]));
        Assert.Equal("STATUS", (await agent.RequestAsync("STATUS")).Verb);
    }

    [Fact]
    public async Task Over_long_line_and_binary_garbage_are_answered_once_each()
    {
        await using var agent = await _boards.NewBoardAsync();
        await agent.SendLineAsync("STATUS " + new string('x', 600));
        Assert.Equal("LINE_TOO_LONG", (await agent.ReadParsedAsync())["code"]);
        await agent.SendRawAsync([0x00, 0xff, 0x80, 0x17, (byte)'\n']);
        Assert.Equal("BAD_COMMAND", (await agent.ReadParsedAsync())["code"]);
        Assert.Equal("STATUS", (await agent.RequestAsync("STATUS")).Verb);
    }

    [Fact]
    public async Task Module_importing_an_unknown_native_is_refused_by_name()
    {
        await using var agent = await _boards.NewBoardAsync();
        var module = ModuleBuilder.CompileText("""
            __attribute__((import_module("env"), import_name("launch_rockets"))) void launch_rockets(int);
            __attribute__((export_name("go"))) void go(void) { launch_rockets(3); }
            """);
        var refused = await agent.LoadAsync("rockets", module);
        Assert.Equal(("LOAD_ERR", "INVALID_MODULE"), (refused.Verb, refused["code"]));
        Assert.Contains("env::launch_rockets", refused["msg"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Module_wanting_more_memory_than_the_board_has_is_refused()
    {
        await using var agent = await _boards.NewBoardAsync();
        // Header, then a memory section: one memory of at least 2 pages (128 KiB).
        byte[] module = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00, 0x02];
        var refused = await agent.LoadAsync("big", module);
        Assert.Equal(("LOAD_ERR", "NO_MEMORY"), (refused.Verb, refused["code"]));
        Assert.Contains("128 KiB", refused["msg"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_thousand_back_to_back_commands_get_their_replies_in_order()
    {
        await using var agent = await _boards.NewBoardAsync();
        var batch = new StringBuilder();
        for (var i = 0; i < 1000; i++)
        {
            batch.Append(i % 2 == 0 ? "STATUS\n" : "STOP module_id=none\n");
        }
        await agent.SendRawAsync(Encoding.ASCII.GetBytes(batch.ToString()));
        for (var i = 0; i < 1000; i++)
        {
            var reply = await agent.ReadParsedAsync();
            Assert.Equal(i % 2 == 0 ? "STATUS" : "ERR", reply.Verb);
        }
    }

    [Fact]
    public async Task A_new_peer_takes_the_link_over_and_the_board_keeps_its_modules()
    {
        await using var first = await _boards.NewBoardAsync();
        Assert.Equal("LOAD_OK", (await first.LoadAsync("m", MathOps)).Verb);
        var port = ((System.Net.IPEndPoint)GetRemote(first)).Port;
        await using var second = await AgentClient.ConnectAsync(port);
        Assert.Equal("m", (await second.RequestAsync("STATUS"))["modules"]);
    }

    private static System.Net.EndPoint GetRemote(AgentClient client) => client.RemoteEndPoint;
}
