using System.Text;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Protocol.Tests;

public class FuncArgsAndCrcTests
{
    [Fact]
    public void Named_and_positional_args_keep_their_order()
    {
        Assert.True(FuncArgs.TryParse("a=10, b=-15,2.5,0x1F", out var args, out var error), error);
        Assert.Equal(["10", "-15", "2.5", "0x1F"], args.Select(a => a.Text));
        Assert.Equal(["a", "b", null, null], args.Select(a => a.Name));
        Assert.True(FuncArgs.TryParseInt64("0x1F", out var hex));
        Assert.Equal(31, hex);
    }

    [Theory]
    [InlineData("a=ten")]
    [InlineData("1 2")]
    [InlineData("9a=1")]
    [InlineData("a=1,,b=2")]
    public void Bad_args_say_which_one(string text)
    {
        Assert.False(FuncArgs.TryParse(text, out _, out var error));
        Assert.Contains("argument", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_args_are_no_args()
    {
        Assert.True(FuncArgs.TryParse(null, out var none, out _));
        Assert.Empty(none);
        Assert.True(FuncArgs.TryParse("", out none, out _));
        Assert.Empty(none);
    }

    [Fact]
    public void Crc32_is_zlibs()
    {
        Assert.Equal(0xCBF43926u, Crc32Hex.Compute("123456789"u8));
        Assert.Equal("cbf43926", Crc32Hex.Format(0xCBF43926u));
        Assert.True(Crc32Hex.TryParse("CBF43926", out var upper));
        Assert.Equal(0xCBF43926u, upper);
        Assert.False(Crc32Hex.TryParse("cbf4392", out _));
        Assert.False(Crc32Hex.TryParse("cbf4392g", out _));
    }

    [Theory]
    [InlineData("math_ops", true)]
    [InlineData("a.b-c_9", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("../etc", false)]
    [InlineData("123456789012345678901234567890123", false)]
    public void Module_ids_follow_the_grammar(string id, bool valid)
    {
        Assert.Equal(valid, ModuleId.IsValid(id));
    }

    [Fact]
    public void Host_requests_round_trip_in_snake_case()
    {
        var json = Encoding.UTF8.GetString(HostJson.Serialize(new HostRequest { Id = 7, Op = "start", Device = "nucleo", ModuleId = "math_ops", Func = "add", Args = "a=10,b=15", WaitResult = true }));
        Assert.Contains("\"module_id\":\"math_ops\"", json, StringComparison.Ordinal);
        Assert.Contains("\"wait_result\":true", json, StringComparison.Ordinal);
        Assert.True(HostJson.TryParseRequest(Encoding.UTF8.GetBytes(json), out var back, out _));
        Assert.Equal("a=10,b=15", back!.Args);
        Assert.Equal(7, back.Id);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("[1,2]")]
    [InlineData("{\"id\":\"x\"}")]
    [InlineData("null")]
    [InlineData("\u0000\u0001")]
    public void Malformed_host_json_is_a_typed_failure(string text)
    {
        Assert.False(HostJson.TryParseRequest(Encoding.UTF8.GetBytes(text), out _, out var error));
        Assert.NotEmpty(error);
    }
}
