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

    [Fact]
    public void A_tab_after_the_verb_separates_it_from_the_fields()
    {
        var line = Parse("START\tmodule_id=m\tfunc=f");
        Assert.Equal("START", line.Verb);
        Assert.Equal("m", line["module_id"]);
        Assert.Equal("f", line["func"]);
    }

    [Fact]
    public void A_quoted_value_longer_than_a_line_is_a_typed_error_not_an_exception()
    {
        var text = "RESULT msg=\"" + new string('x', 400) + "\"";
        var error = Fail(text);
        Assert.Equal(LineParseErrorKind.TooLong, error.Kind);
    }

    [Fact]
    public void A_line_of_exactly_the_limit_parses_and_one_byte_more_does_not()
    {
        // 255 bytes of content + the LF that ended it = 256.
        var longest = "RESULT msg=\"" + new string('y', 255 - "RESULT msg=\"\"".Length) + "\"";
        Assert.Equal(255, longest.Length);
        Assert.Equal(242, Parse(longest)["msg"]!.Length);
        Assert.Equal(LineParseErrorKind.TooLong, Fail(longest + " ").Kind);
    }

    private const string Alphabet = "AZ az=\"\\ 09,_\t";

    /// <summary>Printable lines of any length (also past the limit), biased to the protocol's alphabet so deep paths are reached.</summary>
    [Fact]
    public void Random_printable_lines_give_a_line_or_a_typed_error()
    {
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var buffer = new byte[700];
        for (var i = 0; i < 50_000; i++)
        {
            var length = random.Next(buffer.Length);
            for (var j = 0; j < length; j++)
            {
                buffer[j] = random.Next(2) == 0 ? (byte)Alphabet[random.Next(Alphabet.Length)] : (byte)random.Next(0x20, 0x7F);
            }
            var input = buffer.AsSpan(0, length);
            bool ok;
            AgentLine? line;
            LineParseError error;
            try
            {
                ok = AgentLineParser.TryParse(input, out line, out error);
            }
            catch (Exception ex)
            {
                Assert.Fail($"seed {seed}, line {i}: {ex.GetType().Name} on '{Encoding.ASCII.GetString(input)}'");
                return;
            }
            Assert.True(ok ? line is not null && length < ProtocolLimits.MaxLineLength : Enum.IsDefined(error.Kind),
                $"seed {seed}, line {i}: '{Encoding.ASCII.GetString(input)}' gave ok={ok}, {error}");
            if (length >= ProtocolLimits.MaxLineLength)
            {
                Assert.True(error.Kind == LineParseErrorKind.TooLong, $"seed {seed}: a {length}-byte line must be TooLong, was {error.Kind}");
            }
        }
    }
}
