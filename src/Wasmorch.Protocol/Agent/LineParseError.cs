namespace Wasmorch.Protocol.Agent;

/// <summary>Why a line could not be parsed. Every malformed input maps to one of these, never to an exception.</summary>
public enum LineParseErrorKind
{
    Empty,
    NotAscii,
    BadVerb,
    BadKey,
    MissingEquals,
    BadValue,
    UnterminatedQuote,
    BadEscape,
    DuplicateKey,
    TooManyFields,
    TooLong,
}

public readonly record struct LineParseError(LineParseErrorKind Kind, int Offset, string Message)
{
    public override string ToString() => $"{Message} (at byte {Offset})";

    /// <summary>
    /// The text an agent puts in <c>ERR code=BAD_COMMAND msg="…"</c> for this kind: the same words in
    /// every agent (the firmware core's <c>wm_parse_result_str</c>), so that replies agree byte for
    /// byte (docs/protocol-vectors.txt). <see cref="Message"/> has the details, for logs.
    /// </summary>
    public string ReplyText => Kind switch
    {
        LineParseErrorKind.Empty => "empty line",
        LineParseErrorKind.NotAscii => "byte is not printable ASCII",
        LineParseErrorKind.BadVerb => "a verb is upper-case letters, digits and '_'",
        LineParseErrorKind.BadKey => "expected key=value",
        LineParseErrorKind.MissingEquals => "key has no '=value'",
        LineParseErrorKind.BadValue => "malformed value",
        LineParseErrorKind.UnterminatedQuote => "quoted value is not closed",
        LineParseErrorKind.BadEscape => "only \\\" and \\\\ are escapes",
        LineParseErrorKind.DuplicateKey => "a key appears twice",
        LineParseErrorKind.TooManyFields => "too many fields",
        LineParseErrorKind.TooLong => $"lines are at most {ProtocolLimits.MaxLineLength} bytes",
        _ => "malformed line",
    };
}
