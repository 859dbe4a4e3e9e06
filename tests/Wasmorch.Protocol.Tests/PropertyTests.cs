using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Wasmorch.Protocol.Agent;

namespace Wasmorch.Protocol.Tests;

/// <summary>Properties of the agent-line format: format ∘ parse is the identity, and no input throws.</summary>
public sealed class PropertyTests
{
    private static readonly Gen<string> Key = Gen.Elements("module_id", "func", "args", "msg", "job", "status", "value", "x_1");

    /// <summary>Any printable ASCII, including quotes, backslashes, '=' and spaces.</summary>
    private static readonly Gen<string> Value =
        Gen.Choose(0x20, 0x7e).Select(c => (char)c).ArrayOf().Where(a => a.Length is > 0 and < 60).Select(a => new string(a));

    private static readonly Gen<string> Verb = Gen.Elements("LOAD", "START", "RESULT", "STATUS", "X_9");

    private static readonly Gen<(string Verb, (string Key, string Value)[] Fields)> Lines =
        Verb.SelectMany(v => Key.Zip(Value).ArrayOf().Select(f => (v, f.DistinctBy(x => x.Item1).Take(5).ToArray())));

    [Fact]
    public void Format_then_parse_gives_back_every_field()
    {
        Prop.ForAll(Arb.From(Lines), line =>
        {
            var builder = new AgentLineBuilder(line.Verb);
            foreach (var (key, value) in line.Fields)
            {
                builder.Add(key, value);
            }
            var bytes = builder.ToBytes();
            if (!AgentLineParser.TryParse(bytes.AsSpan(0, bytes.Length - 1), out var parsed, out _) || parsed!.Verb != line.Verb)
            {
                return false;
            }
            // Lines within the limit round-trip exactly; longer ones only ever shorten msg.
            return line.Fields.All(f => parsed[f.Key] == f.Value || (f.Key == "msg" && parsed[f.Key]!.EndsWith("...", StringComparison.Ordinal)));
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Any_bytes_give_a_line_or_a_typed_error_never_an_exception()
    {
        Prop.ForAll(Arb.From(Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf()), bytes =>
        {
            var ok = AgentLineParser.TryParse(bytes, out var line, out var error);
            return ok ? line is not null : Enum.IsDefined(error.Kind);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Args_format_then_parse_keeps_the_values_in_order()
    {
        var number = Gen.Choose(-100000, 100000).Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Prop.ForAll(Arb.From(number.ArrayOf().Where(a => a.Length <= FuncArgs.MaxArgs)), values =>
        {
            var text = FuncArgs.Format(values.Select((v, i) => new FuncArg($"a{i}", v)));
            return FuncArgs.TryParse(text, out var args, out _) && args.Select(a => a.Text).SequenceEqual(values);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Host_json_reader_never_throws_on_any_text()
    {
        Prop.ForAll(Arb.From(Gen.Choose(0, 127).Select(c => (char)c).ArrayOf().Select(a => new string(a))), text =>
        {
            var ok = Protocol.HostApi.HostJson.TryParseRequest(Encoding.UTF8.GetBytes(text), out var request, out var error);
            return ok ? request is not null : error.Length > 0;
        }).QuickCheckThrowOnFailure();
    }
}
