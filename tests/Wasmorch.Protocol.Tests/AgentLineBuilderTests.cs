using System.Text;
using Wasmorch.Protocol.Agent;

namespace Wasmorch.Protocol.Tests;

public class AgentLineBuilderTests
{
    [Fact]
    public void Formats_bare_and_quoted_values()
    {
        var text = new AgentLineBuilder("START").Add("module_id", "math_ops").Add("func", "add").Add("args", "a=10,b=15").ToString();
        Assert.Equal("START module_id=math_ops func=add args=\"a=10,b=15\"", text);
    }

    [Fact]
    public void Terminates_with_newline()
    {
        var bytes = new AgentLineBuilder("STATUS").ToBytes();
        Assert.Equal("STATUS\n", Encoding.ASCII.GetString(bytes));
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("with space")]
    [InlineData("quote \" and \\ backslash")]
    [InlineData("a=1,b=2")]
    [InlineData("-")]
    [InlineData("x:y+z/w.v-u,t")]
    public void Format_then_parse_is_identity(string value)
    {
        var bytes = new AgentLineBuilder("RESULT").Add("msg", value).Add("job", 3).ToBytes();
        Assert.True(AgentLineParser.TryParse(bytes.AsSpan(0, bytes.Length - 1), out var line, out var error), error.ToString());
        Assert.Equal(value, line!["msg"]);
        Assert.Equal("3", line["job"]);
    }

    [Fact]
    public void Non_ascii_is_replaced_not_sent()
    {
        var text = new AgentLineBuilder("RESULT").Add("msg", "naïve\nline").ToString();
        Assert.Equal("RESULT msg=\"na?ve?line\"", text);
    }

    [Fact]
    public void Over_long_message_is_shortened_to_fit_a_line()
    {
        var bytes = new AgentLineBuilder("RESULT").Add("module_id", "m").Add("status", "TRAP").Add("msg", new string('x', 600)).ToBytes();
        Assert.True(bytes.Length <= ProtocolLimits.MaxLineLength, $"{bytes.Length} bytes");
        Assert.Equal((byte)'\n', bytes[^1]);
        Assert.True(AgentLineParser.TryParse(bytes.AsSpan(0, bytes.Length - 1), out var line, out _));
        Assert.EndsWith("...", line!["msg"], StringComparison.Ordinal);
        Assert.Equal("TRAP", line["status"]);
    }
}

public sealed class HostJsonErrorTests
{
    [Theory]
    [InlineData("{\"id\":1,\"timeout_ms\":\"soon\"}", "field 'timeout_ms' must be a whole number of milliseconds (32 bits)")]
    [InlineData("{\"id\":1,\"wait_result\":1}", "field 'wait_result' must be true or false")]
    [InlineData("{\"id\":1,\"exports\":\"add\"}", "field 'exports' must be a list of strings")]
    [InlineData("{\"id\":1,", "malformed JSON")]
    [InlineData("{\"id\":5,\"op\":\"start\",\"device\":\"nucleo\",\"timeout_ms\":99999999999}", "field 'timeout_ms' must be a whole number of milliseconds (32 bits)")]
    public void Errors_name_the_field_and_the_json_type_never_a_dotnet_type(string json, string message)
    {
        Assert.False(Wasmorch.Protocol.HostApi.HostJson.TryParseRequest(System.Text.Encoding.UTF8.GetBytes(json), out _, out var error));
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", error, StringComparison.Ordinal);
    }
}
