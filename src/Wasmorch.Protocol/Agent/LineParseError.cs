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
}

public readonly record struct LineParseError(LineParseErrorKind Kind, int Offset, string Message)
{
    public override string ToString() => $"{Message} (at byte {Offset})";
}
