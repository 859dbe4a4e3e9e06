using Wasmorch.WasmtimeTarget;
using Wasmorch.Emulator.Peripherals;
using Wasmorch.Emulator.Runtime;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Modules;

namespace Wasmorch.Emulator.Agent;

/// <summary>
/// Answers the line commands of docs/protocol.md for one board (LOAD's payload phase lives in
/// <see cref="AgentConnection"/>, which owns the byte stream). Pure decisions over board state.
/// </summary>
internal sealed class CommandHandler
{
    public const string AgentName = "wasmorch-emulator/0.1";

    /// <summary>What HELLO_OK offers; docs/protocol.md §6 (AUTH too when the board has a link key).</summary>
    public const string Extensions = "PING,UNLOAD,LOG";

    /// <summary>
    /// HELLO_OK's extensions: PING, UNLOAD, LOG, then XLOAD (with a window), AUTH (with a link key).
    /// CAPS and SIM are not listed: HELLO_OK has no room left (§6c), a peer asks CAPS and learns SIM there.
    /// </summary>
    private string OfferedExtensions(bool secured) =>
        Extensions + (_board.Options.XloadWindow > 0 ? "," + AgentVerbs.Xload : "") + (secured ? "," + LinkAuth.Extension : "");

    private readonly Board _board;

    public CommandHandler(Board board) => _board = board;

    public static AgentLineBuilder Error(string code, string message) =>
        new AgentLineBuilder(AgentVerbs.Err).Add(AgentKeys.Code, code).Add(AgentKeys.Msg, message);

    public AgentLineBuilder Status()
    {
        var job = _board.Runner.Current;
        var modules = _board.ModuleIds();
        return new AgentLineBuilder(AgentVerbs.Status)
            .Add(AgentKeys.State, job is null ? "IDLE" : "RUNNING")
            .Add(AgentKeys.Module, job?.ModuleId ?? "-")
            .Add(AgentKeys.Func, job?.Func ?? "-")
            .Add(AgentKeys.Job, job is null ? "-" : job.Job.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Add(AgentKeys.Modules, modules.Length == 0 ? "-" : string.Join(',', modules))
            .Add(AgentKeys.UptimeMs, _board.UptimeMs)
            .AddIfFits(AgentKeys.Gpio, "0x" + _board.Gpio.Levels.ToString("x4", System.Globalization.CultureInfo.InvariantCulture))
            .AddIfFits(AgentKeys.GpioWrites, _board.Gpio.Writes.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .AddIfFits(AgentKeys.LogDropped, _board.LogDropped.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .AddIfFits(AgentKeys.EventsDropped, _board.EventsDropped.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .AddIfFits(AgentKeys.Pwm, _board.Pwm.Status())
            .AddIfFits(AgentKeys.ModuleCrcs, modules.Length == 0 ? "-" : string.Join(',', _board.ModuleCrcs()));
    }

    /// <summary>§6c: the capabilities this board offers modules.</summary>
    public AgentLineBuilder Caps() =>
        new AgentLineBuilder(AgentVerbs.CapsOk)
            .Add(AgentKeys.Caps, _board.Options.Caps.Count == 0 ? "-" : string.Join(',', Capabilities.Known.Where(_board.Options.Caps.Contains)))
            .AddIfNotNull(AgentKeys.Sim, _board.Options.SimulatedInputs ? SimInputs : null);

    /// <summary>CAPS_OK <c>sim=</c>: what SIM sets on this board (§6d).</summary>
    public const string SimInputs = "pin,temp_mc";

    /// <summary>
    /// §6d: sets simulated inputs: an input pin's level (edges wake gpio_wait_edge) and the TMP102's
    /// temperature. Every key is checked before anything changes.
    /// </summary>
    public AgentLineBuilder Sim(AgentLine line)
    {
        var hasPin = line[AgentKeys.Pin] is not null || line[AgentKeys.Level] is not null;
        var hasTemp = line[AgentKeys.TempMc] is not null;
        if (!hasPin && !hasTemp)
        {
            return Error(AgentErrorCodes.BadArgs, "SIM needs pin=<n> level=0|1, or temp_mc=<milli-degrees C>");
        }
        long pin = 0, level = 0, temp = 0;
        if (hasPin && (!line.TryGetInt64(AgentKeys.Pin, out pin) || pin < 0 || pin >= _board.Options.GpioPins || !line.TryGetInt64(AgentKeys.Level, out level) || level is not (0 or 1)))
        {
            return Error(AgentErrorCodes.BadArgs, $"SIM pin=<0-{_board.Options.GpioPins - 1}> level=<0|1>: both, in range");
        }
        if (hasTemp && (!line.TryGetInt64(AgentKeys.TempMc, out temp) || temp is < Tmp102.MinMilliC or > Tmp102.MaxMilliC))
        {
            return Error(AgentErrorCodes.BadArgs, $"SIM temp_mc must be {Tmp102.MinMilliC} to {Tmp102.MaxMilliC} (the TMP102's range, milli-degrees C)");
        }
        if (hasPin)
        {
            _board.Gpio.SetInput((int)pin, level == 1);
        }
        if (hasTemp)
        {
            _board.Sensor.TemperatureMilliC = (int)temp;
        }
        return new AgentLineBuilder(AgentVerbs.SimOk)
            .Add(AgentKeys.Gpio, "0x" + _board.Gpio.Levels.ToString("x4", System.Globalization.CultureInfo.InvariantCulture))
            .Add(AgentKeys.TempMc, _board.Sensor.TemperatureMilliC);
    }

    /// <summary>§6: the line a board sends when it starts (the firmware core's wm_agent_boot).</summary>
    public AgentLineBuilder Boot() => new AgentLineBuilder(AgentVerbs.Boot).Add(AgentKeys.Agent, AgentName).Add(AgentKeys.Board, _board.Name);

    /// <summary>HELLO_OK; <paramref name="nonce"/> is this link's AUTH challenge when the board has a link key.</summary>
    public AgentLineBuilder Hello(string? nonce = null) =>
        new AgentLineBuilder(AgentVerbs.HelloOk)
            .Add(AgentKeys.Proto, 1)
            .Add(AgentKeys.Agent, AgentName)
            .Add(AgentKeys.Board, _board.Name)
            .Add(AgentKeys.Runtime, EmulatedTarget.Version)
            .Add(AgentKeys.Modes, _board.Options.AcceptsPrecompiled ? "wasm,aot" : "wasm")
            .Add(AgentKeys.AotTarget, _board.Options.AcceptsPrecompiled ? EmulatedTarget.AotTarget : "-")
            .Add(AgentKeys.MaxModule, _board.Options.MaxModuleBytes)
            .Add(AgentKeys.MaxModules, _board.Options.MaxModules)
            .Add(AgentKeys.Extensions, OfferedExtensions(nonce is not null))
            .AddIfNotNull(AgentKeys.AuthNonce, nonce);

    /// <summary>
    /// AUTH against the nonce of this link's last HELLO_OK (used up either way): AUTH_OK proving the
    /// board holds the key too, or ERR. <paramref name="authenticated"/> tells the caller which.
    /// </summary>
    public AgentLineBuilder Auth(AgentLine line, string? agentNonce, out bool authenticated)
    {
        authenticated = false;
        var gatewayNonce = line[AgentKeys.Nonce];
        var mac = line[AgentKeys.Mac];
        if (gatewayNonce is not { Length: LinkAuth.NonceBytes * 2 } || !IsHex(gatewayNonce) || mac is not { Length: 64 } || !IsHex(mac))
        {
            return Error(AgentErrorCodes.BadArgs, "AUTH needs nonce=<32 hex digits> mac=<64 hex digits>");
        }
        if (agentNonce is null)
        {
            return Error(AgentErrorCodes.Unauthorized, "no challenge to answer: send HELLO first (AUTH answers the auth_nonce of this link's last HELLO_OK)");
        }
        if (!LinkAuth.Equal(LinkAuth.GatewayMac(_board.Options.LinkKey!, agentNonce, gatewayNonce), mac))
        {
            return Error(AgentErrorCodes.Unauthorized, "link authentication failed: the peer does not hold this board's link key");
        }
        authenticated = true;
        return new AgentLineBuilder(AgentVerbs.AuthOk).Add(AgentKeys.Mac, LinkAuth.AgentMac(_board.Options.LinkKey!, agentNonce, gatewayNonce));
    }

    private static bool IsHex(string text) => text.All(char.IsAsciiHexDigitLower);

    public static AgentLineBuilder NotAuthenticated(string verb) =>
        Error(AgentErrorCodes.Unauthorized, $"{verb} refused: this board requires link authentication (HELLO, then AUTH with the link key; docs/protocol.md section 6a)");

    public AgentLineBuilder Stop(AgentLine line)
    {
        var id = line[AgentKeys.ModuleId];
        if (id is null || !ModuleId.IsValid(id))
        {
            return Error(AgentErrorCodes.BadArgs, "STOP needs module_id=<id> ([A-Za-z0-9_.-]{1,32})");
        }
        if (!_board.TryGetModule(id, out _))
        {
            return Error(AgentErrorCodes.NoModule, $"no module '{id}' is loaded");
        }
        var job = _board.Runner.Current;
        return _board.Runner.RequestStop(id)
            ? new AgentLineBuilder(AgentVerbs.StopOk).Add(AgentKeys.ModuleId, id).Add(AgentKeys.Status, "PENDING").Add(AgentKeys.Job, job!.Job)
            : new AgentLineBuilder(AgentVerbs.StopOk).Add(AgentKeys.ModuleId, id).Add(AgentKeys.Status, "IDLE");
    }

    public AgentLineBuilder Unload(AgentLine line)
    {
        var id = line[AgentKeys.ModuleId];
        if (id is null || !ModuleId.IsValid(id))
        {
            return Error(AgentErrorCodes.BadArgs, "UNLOAD needs module_id=<id> ([A-Za-z0-9_.-]{1,32})");
        }
        if (_board.Runner.IsRunning(id))
        {
            return Error(AgentErrorCodes.Busy, $"module '{id}' is running; STOP it first");
        }
        return _board.Remove(id)
            ? new AgentLineBuilder(AgentVerbs.UnloadOk).Add(AgentKeys.ModuleId, id)
            : Error(AgentErrorCodes.NoModule, $"no module '{id}' is loaded");
    }

    /// <summary>
    /// Validates and starts a job. Returns the immediate error RESULT, or null after START_OK was
    /// queued through <paramref name="sendStarted"/> ahead of any RESULT of the job.
    /// </summary>
    /// <summary>START: an immediate answer (ERR, RESULT) with nothing to run, or START_OK and the job to run once it is sent.</summary>
    public (AgentLineBuilder Reply, Action? Go) Start(AgentLine line)
    {
        var id = line[AgentKeys.ModuleId];
        var func = line[AgentKeys.Func];
        if (id is null || !ModuleId.IsValid(id) || func is null || !ModuleId.IsValidFunctionName(func))
        {
            return (Error(AgentErrorCodes.BadArgs, "START needs module_id=<id> func=<name> [args=\"a=1,b=2\"]"), null);
        }
        // §3 order of refusals: the args' syntax, NO_MODULE, NO_FUNC, the args against the signature, BUSY.
        if (!FuncArgs.TryParse(line[AgentKeys.Args], out var args, out var argsError))
        {
            return (ImmediateResult(id, func, AgentErrorCodes.BadArgs, argsError), null);
        }
        if (!_board.TryGetModule(id, out var module))
        {
            return (ImmediateResult(id, func, AgentErrorCodes.NoModule, $"no module '{id}' is loaded"), null);
        }
        if (!module.Functions.TryGetValue(func, out var export))
        {
            return (ImmediateResult(id, func, AgentErrorCodes.NoFunc,
                $"module '{id}' exports no function '{func}' (exports: {string.Join(',', module.Functions.Keys)})"), null);
        }
        if (export.Parameters.Any(p => !WasmValues.IsSupported(p)) || export.Results.Any(r => !WasmValues.IsSupported(r)))
        {
            return (ImmediateResult(id, func, AgentErrorCodes.BadArgs, $"'{func}' uses types other than i32/i64/f32/f64"), null);
        }
        if (!WasmValues.TryConvert(args, export.Parameters, out var values, out argsError))
        {
            return (ImmediateResult(id, func, AgentErrorCodes.BadArgs, argsError), null);
        }
        var running = _board.Runner.Current;
        if (running is not null)
        {
            return (ImmediateResult(id, func, AgentErrorCodes.Busy, $"job {running.Job} ({running.ModuleId}.{running.Func}) is running"), null);
        }
        var job = _board.Runner.TryReserve(module, func, values, _board.NextJobId(), out var go);
        return job is null
            ? (ImmediateResult(id, func, AgentErrorCodes.Busy, "the runner is busy"), null)
            : (new AgentLineBuilder(AgentVerbs.StartOk).Add(AgentKeys.ModuleId, id).Add(AgentKeys.Func, func).Add(AgentKeys.Job, job.Job), go);
    }

    private static AgentLineBuilder ImmediateResult(string id, string func, string status, string message) =>
        new AgentLineBuilder(AgentVerbs.Result).Add(AgentKeys.ModuleId, id).Add(AgentKeys.Func, func).Add(AgentKeys.Status, status).Add(AgentKeys.Msg, message);

    /// <summary>Checks a LOAD line; null means the payload may follow (after LOAD_READY).</summary>
    public AgentLineBuilder? CheckLoad(AgentLine line, out string id, out int size, out uint crc)
    {
        id = line[AgentKeys.ModuleId] ?? string.Empty;
        size = 0;
        crc = 0;
        if (!ModuleId.IsValid(id))
        {
            return Error(AgentErrorCodes.BadArgs, "LOAD needs module_id=<id> ([A-Za-z0-9_.-]{1,32})");
        }
        if (!line.TryGetInt64(AgentKeys.Size, out var longSize) || longSize <= 0)
        {
            return Error(AgentErrorCodes.BadArgs, "LOAD needs size=<bytes>, a positive integer");
        }
        if (!Crc32Hex.TryParse(line[AgentKeys.Crc32], out crc))
        {
            return Error(AgentErrorCodes.BadArgs, "LOAD needs crc32=<8 hex digits>");
        }
        if (longSize > _board.Options.MaxModuleBytes)
        {
            return Error(AgentErrorCodes.TooLarge, $"module of {longSize} bytes exceeds this board's {_board.Options.MaxModuleBytes}");
        }
        if (_board.Runner.IsRunning(id))
        {
            return Error(AgentErrorCodes.Busy, $"module '{id}' is running; STOP it first");
        }
        if (!_board.HasRoomFor(id))
        {
            return Error(AgentErrorCodes.NoMemory, _board.ModuleIds().Length >= _board.Options.MaxModules
                ? $"{_board.Options.MaxModules} modules are loaded, the most this board holds"
                : $"the loaded module ids would exceed the {ProtocolLimits.MaxModuleListLength} bytes STATUS lists; UNLOAD one or use shorter ids");
        }
        size = (int)longSize;
        return null;
    }

    /// <summary>
    /// Checks an XLOAD line (§6b): LOAD's checks, in LOAD's order, after its own arguments
    /// (codec, zsize); null means the stream may follow (after XLOAD_READY).
    /// </summary>
    public AgentLineBuilder? CheckXload(AgentLine line, out PendingUpload? upload)
    {
        upload = null;
        var codec = line[AgentKeys.Codec] ?? "none";
        if (codec is not ("none" or Lzss1.Name))
        {
            return Error(AgentErrorCodes.BadArgs, $"XLOAD codec '{codec}' is not offered (codecs: none,{Lzss1.Name})");
        }
        var refusal = CheckLoad(line, out var id, out var size, out var crc);
        if (refusal is not null)
        {
            return refusal;
        }
        // codec=none: the stream is the module, byte for byte; a shorter one would leave bytes nobody sent.
        var (least, most) = codec == Lzss1.Name ? (1L, Lzss1.MaxStreamSize(size)) : (size, size);
        if (!line.TryGetInt64(AgentKeys.Zsize, out var streamSize) || streamSize < least || streamSize > most)
        {
            return Error(AgentErrorCodes.BadArgs, codec == Lzss1.Name
                ? $"XLOAD needs zsize=<stream bytes>, 1 to {most} for a module of {size} bytes with codec {codec}"
                : $"XLOAD needs zsize=<stream bytes>, exactly {size} for a module of {size} bytes with codec none");
        }
        upload = new PendingUpload(id, size, crc, codec, (int)streamSize);
        return null;
    }

    /// <summary>Verifies and installs a received payload; the old module of that id stays until this succeeds.</summary>
    public AgentLineBuilder FinishLoad(string id, byte[] payload, uint expectedCrc)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var actual = Crc32Hex.Compute(payload);
        if (actual != expectedCrc)
        {
            return LoadError(id, AgentErrorCodes.CrcMismatch, $"expected {Crc32Hex.Format(expectedCrc)}, received {Crc32Hex.Format(actual)}");
        }
        var check = _board.Runtime.Compile(id, payload, _board.Options.MaxLinearMemoryBytes, _board.Options.AcceptsPrecompiled, _board.Options.Caps);
        if (check.Module is null)
        {
            return LoadError(id, check.Code!, check.Message!);
        }
        if (_board.Runner.IsRunning(id))
        {
            check.Module.Dispose();
            return LoadError(id, AgentErrorCodes.Busy, $"module '{id}' started while loading");
        }
        _board.Install(new LoadedModule(id, check.Module, payload.Length, actual));
        // verify_us: how long the board spent checking and compiling, so that link time can be told apart.
        return new AgentLineBuilder(AgentVerbs.LoadOk).Add(AgentKeys.ModuleId, id).Add(AgentKeys.Size, payload.Length).Add(AgentKeys.Crc32, Crc32Hex.Format(actual))
            .Add(AgentKeys.VerifyUs, (long)clock.Elapsed.TotalMicroseconds);
    }

    public static AgentLineBuilder LoadError(string id, string code, string message) =>
        new AgentLineBuilder(AgentVerbs.LoadErr).Add(AgentKeys.ModuleId, id).Add(AgentKeys.Code, code).Add(AgentKeys.Msg, message);
}
