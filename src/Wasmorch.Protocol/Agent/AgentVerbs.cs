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

    /// <summary>§6c: what the device offers modules (extension CAPS).</summary>
    public const string Caps = "CAPS";

    public const string CapsOk = "CAPS_OK";

    /// <summary>§6c: a module published an event (agent → gateway, asynchronous, extension EVENT).</summary>
    public const string Event = "EVENT";

    /// <summary>§6d: set a simulated input of an emulated board (extension SIM).</summary>
    public const string Sim = "SIM";

    public const string SimOk = "SIM_OK";
}
