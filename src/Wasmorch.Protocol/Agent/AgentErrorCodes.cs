namespace Wasmorch.Protocol.Agent;

/// <summary>Error and status codes that agents send (docs/protocol.md, "Error codes").</summary>
public static class AgentErrorCodes
{
    public const string BadCommand = "BAD_COMMAND";
    public const string LineTooLong = "LINE_TOO_LONG";
    public const string BadArgs = "BAD_ARGS";
    public const string Busy = "BUSY";
    public const string TooLarge = "TOO_LARGE";
    public const string NoModule = "NO_MODULE";
    public const string NoFunc = "NO_FUNC";
    public const string NoMemory = "NO_MEMORY";
    public const string CrcMismatch = "CRC_MISMATCH";
    public const string Timeout = "TIMEOUT";
    public const string InvalidModule = "INVALID_MODULE";
    public const string Unauthorized = "UNAUTHORIZED";

    /// <summary>Received bytes were lost: the line they broke, or a payload sent before LOAD_READY (§3, Lost bytes).</summary>
    public const string RxOverrun = "RX_OVERRUN";

    /// <summary>§6b: an XLOAD stream its codec cannot decode into the declared module.</summary>
    public const string BadPayload = "BAD_PAYLOAD";
}

/// <summary>Values of <c>status=</c> in RESULT lines.</summary>
public static class JobStatus
{
    public const string Ok = "OK";
    public const string Trap = "TRAP";
    public const string Stopped = "STOPPED";
}
