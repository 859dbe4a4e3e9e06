using System.Globalization;

namespace Wasmorch.Protocol.Agent.Replies;

/// <summary>
/// A job's return value as the agent wrote it (<c>value=</c> with <c>type=</c> i32/i64/f32/f64):
/// the text is kept exactly, so an i64 beyond 2^53 or a NaN payload is never rounded through a double.
/// </summary>
public sealed record ResultValue(string Text, string? Type)
{
    /// <summary>The value as a whole number, when it is one (an integer type, or an integral text).</summary>
    public bool TryGetInt64(out long value) =>
        long.TryParse(Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    /// <summary>Whether the value is exactly the integer <paramref name="expected"/> (a self-test's 0, say).</summary>
    public bool Is(long expected) => TryGetInt64(out var value) && value == expected;

    public override string ToString() => Text;
}
