using System.Text;
using Wasmorch.Protocol.Agent;

namespace Wasmorch.Protocol.Tests;

public class AgentLineParserTests
{
    private static AgentLine Parse(string text)
    {
        Assert.True(AgentLineParser.TryParse(Encoding.ASCII.GetBytes(text), out var line, out var error), error.ToString());
        return line!;
    }

    private static LineParseError Fail(string text)
    {
        Assert.False(AgentLineParser.TryParse(Encoding.Latin1.GetBytes(text), out _, out var error));
        return error;
    }

    [Fact]
    public void Parses_the_seed_start_line_with_quoted_args()
    {
        var line = Parse("START module_id=math_ops func=add args=\"a=10,b=15\"");
        Assert.Equal("START", line.Verb);
        Assert.Equal("math_ops", line["module_id"]);
        Assert.Equal("add", line["func"]);
        Assert.Equal("a=10,b=15", line["args"]);
        Assert.Null(line["job"]);
    }

    [Fact]
    public void Accepts_crlf_and_extra_spaces()
    {
        var line = Parse("  STATUS   state=IDLE  modules=a,b\r");
        Assert.Equal("STATUS", line.Verb);
        Assert.Equal("a,b", line["modules"]);
    }

    [Fact]
    public void Unescapes_quotes_and_backslashes()
    {
        var line = Parse("RESULT status=TRAP msg=\"say \\\"hi\\\" \\\\ bye\"");
        Assert.Equal("say \"hi\" \\ bye", line["msg"]);
    }

    [Fact]
    public void Reads_integers_with_sign()
    {
        var line = Parse("RESULT job=7 value=-25");
        Assert.True(line.TryGetInt64("job", out var job));
        Assert.Equal(7, job);
        Assert.True(line.TryGetInt64("value", out var value));
        Assert.Equal(-25, value);
    }

    [Theory]
    [InlineData("", LineParseErrorKind.Empty)]
    [InlineData("   ", LineParseErrorKind.Empty)]
    [InlineData("status", LineParseErrorKind.BadVerb)]
    [InlineData("LOAD module_id", LineParseErrorKind.MissingEquals)]
    [InlineData("LOAD =x", LineParseErrorKind.BadKey)]
    [InlineData("LOAD size=", LineParseErrorKind.BadValue)]
    [InlineData("START args=\"a=1", LineParseErrorKind.UnterminatedQuote)]
    [InlineData("START args=\"a\\n\"", LineParseErrorKind.BadEscape)]
    [InlineData("START a=1 a=2", LineParseErrorKind.DuplicateKey)]
    [InlineData("START a=b\"c", LineParseErrorKind.BadValue)]
    [InlineData("START args=\"x\"y", LineParseErrorKind.BadValue)]
    [InlineData("LOAD \u00ff=1", LineParseErrorKind.NotAscii)]
    [InlineData("LOAD\u0001", LineParseErrorKind.NotAscii)]
    public void Malformed_lines_are_typed_errors(string text, LineParseErrorKind kind)
    {
        Assert.Equal(kind, Fail(text).Kind);
    }

    private const string Alphabet = "AZ az=\"\\ 09,_";

    [Fact]
    public void Random_bytes_never_throw()
    {
        var random = new Random(1234);
        var buffer = new byte[300];
        for (var i = 0; i < 20_000; i++)
        {
            var length = random.Next(buffer.Length);
            random.NextBytes(buffer.AsSpan(0, length));
            // Bias towards the protocol's own alphabet so that deep paths are reached.
            for (var j = 0; j < length; j++)
            {
                if (buffer[j] % 3 == 0)
                {
                    buffer[j] = (byte)Alphabet[buffer[j] % Alphabet.Length];
                }
            }
            _ = AgentLineParser.TryParse(buffer.AsSpan(0, length), out _, out _);
        }
    }
}
