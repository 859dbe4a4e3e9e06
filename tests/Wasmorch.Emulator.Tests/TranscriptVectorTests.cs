using System.Globalization;
using System.Text;
using Wasmorch.Testing;

namespace Wasmorch.Emulator.Tests;

/// <summary>
/// Replays docs/protocol-vectors.txt against emulated boards over real sockets: every reply byte for
/// byte as the vector says (key=* matches any value). The firmware core's host tests replay the same
/// file (firmware/agent/tests/test_vectors.c), so the two agents answer alike.
/// </summary>
[Collection("boards")]
public sealed class TranscriptVectorTests
{
    private readonly BoardFixture _boards;

    public TranscriptVectorTests(BoardFixture boards) => _boards = boards;

    public static TheoryData<string> CaseNames()
    {
        var names = new TheoryData<string>();
        foreach (var vector in TranscriptVectors.ReadAll(RepoPaths.ProtocolVectors))
        {
            names.Add(vector.Name);
        }
        return names;
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Emulator_answers_the_vector(string name)
    {
        var vector = TranscriptVectors.ReadAll(RepoPaths.ProtocolVectors).Single(v => v.Name == name);
        await using var agent = await _boards.NewBoardAsync(o => o with
        {
            MaxModuleBytes = 4096, MaxModules = 4, XloadWindow = 1024, SimulatedInputs = false, Baseline = vector.Baseline, LinkKey = vector.LinkKey, NewNonce = () => TranscriptVector.PredictableNonce,
        });
        if (!vector.Baseline)
        {
            AssertLine(vector, 0, "BOOT agent=* board=*", await agent.ReadLineBytesAsync());
        }
        foreach (var step in vector.Steps)
        {
            switch (step.Kind)
            {
                case '>':
                    await agent.SendRawAsync(step.Bytes);
                    break;
                case '~':
                    await Task.Delay(step.Milliseconds);
                    break;
                case '<':
                    AssertLine(vector, step.LineNumber, step.Expected, await agent.ReadLineBytesAsync());
                    break;
            }
        }
        // Nothing more: the next line the board sends must answer this probe (PING needs no AUTH; a baseline agent knows only STATUS).
        var (probe, answer) = vector.Baseline ? ("STATUS", "STATUS ") : ("PING", "PONG ");
        await agent.SendLineAsync(probe);
        var next = Encoding.ASCII.GetString(await agent.ReadLineBytesAsync());
        Assert.True(next.StartsWith(answer, StringComparison.Ordinal), $"case {name}: the agent sent '{next}' beyond the vector");
    }

    private static void AssertLine(TranscriptVector vector, int lineNumber, string expected, byte[] actual)
    {
        var text = Encoding.Latin1.GetString(actual);
        Assert.True(actual.All(b => b < 0x80) && TranscriptVectors.Matches(expected, text),
            $"protocol-vectors.txt:{lineNumber.ToString(CultureInfo.InvariantCulture)}: case {vector.Name}\n  expected: {expected}\n  actual:   {text}");
    }
}
