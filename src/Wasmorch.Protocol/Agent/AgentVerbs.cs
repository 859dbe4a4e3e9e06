namespace Wasmorch.Protocol.Agent;

/// <summary>The verbs of the agent protocol (docs/protocol.md §3, §6): commands, replies and asynchronous lines.</summary>
public static class AgentVerbs
{
    public const string Load = "LOAD";

    public const string LoadReady = "LOAD_READY";

    public const string LoadOk = "LOAD_OK";

    public const string LoadErr = "LOAD_ERR";

    public const string Start = "START";

    public const string StartOk = "START_OK";

    public const string Result = "RESULT";

    public const string Stop = "STOP";

    public const string StopOk = "STOP_OK";

    public const string Status = "STATUS";

    public const string Hello = "HELLO";

    public const string HelloOk = "HELLO_OK";

    public const string Ping = "PING";

    public const string Pong = "PONG";

    public const string Unload = "UNLOAD";

    public const string UnloadOk = "UNLOAD_OK";

    public const string Log = "LOG";

    public const string Boot = "BOOT";

    public const string Err = "ERR";

    public const string Auth = "AUTH";

    public const string AuthOk = "AUTH_OK";

    /// <summary>§6b: a windowed, resumable, optionally compressed upload.</summary>
    public const string Xload = "XLOAD";

    public const string XloadReady = "XLOAD_READY";

    /// <summary>§6b: the agent took the stream up to <c>offset</c> (asynchronous, during an XLOAD).</summary>
    public const string Xack = "XACK";
}
