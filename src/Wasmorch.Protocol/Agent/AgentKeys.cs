namespace Wasmorch.Protocol.Agent;

/// <summary>The keys of agent protocol lines (docs/protocol.md §3, §6); receivers ignore keys they do not know.</summary>
public static class AgentKeys
{
    public const string ModuleId = "module_id";

    public const string Func = "func";

    public const string Args = "args";

    public const string Job = "job";

    public const string Status = "status";

    public const string Value = "value";

    public const string Type = "type";

    public const string Msg = "msg";

    public const string ElapsedUs = "elapsed_us";

    public const string Size = "size";

    public const string Crc32 = "crc32";

    public const string VerifyUs = "verify_us";

    public const string Code = "code";

    public const string State = "state";

    public const string Module = "module";

    public const string Modules = "modules";

    public const string UptimeMs = "uptime_ms";

    public const string Gpio = "gpio";

    public const string GpioWrites = "gpio_writes";

    public const string LogDropped = "log_dropped";
    public const string RxOverruns = "rx_overruns";

    public const string ModuleCrcs = "module_crcs";

    public const string Proto = "proto";

    public const string Agent = "agent";

    public const string Board = "board";

    public const string Runtime = "runtime";

    public const string Modes = "modes";

    public const string AotTarget = "aot_target";

    public const string MaxModule = "max_module";

    public const string MaxModules = "max_modules";

    public const string Extensions = "extensions";

    public const string AuthNonce = "auth_nonce";

    public const string Nonce = "nonce";

    public const string Mac = "mac";

    public const string Codec = "codec";

    /// <summary>§6b: the stream's size on the wire (the compressed size).</summary>
    public const string Zsize = "zsize";

    public const string Offset = "offset";

    /// <summary>§6b, XLOAD_READY: the most stream bytes the peer may send beyond the last acknowledged offset.</summary>
    public const string Window = "window";

    /// <summary>§6c, CAPS_OK: the capabilities the device offers modules.</summary>
    public const string Caps = "caps";

    /// <summary>§6c, EVENT: the topic a module published to.</summary>
    public const string Topic = "topic";

    /// <summary>§6c, EVENT: the event's bytes in lower-case hex, or <c>-</c> for none.</summary>
    public const string Data = "data";

    /// <summary>STATUS: events not sent (over a job's rate, or the link was busy).</summary>
    public const string EventsDropped = "events_dropped";

    /// <summary>STATUS: the PWM channels set, <c>ch:period_us:pulse_us,…</c>.</summary>
    public const string Pwm = "pwm";

    /// <summary>§6d, SIM: an input pin and the level to give it.</summary>
    public const string Pin = "pin";

    public const string Level = "level";

    /// <summary>§6d, SIM: the simulated temperature sensor's reading, in milli-degrees Celsius.</summary>
    public const string TempMc = "temp_mc";

    /// <summary>§6d, CAPS_OK: the simulated inputs SIM sets (<c>pin,temp_mc</c>); absent on boards with real inputs.</summary>
    public const string Sim = "sim";
}
