using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Wasmorch.Emulator;
using Wasmorch.Emulator.Agent;
using Wasmorch.Protocol.Agent;

namespace Wasmorch.CoreHost;

/// <summary>
/// A host board under the firmware's C core: the core owns the link (framing, parsing, dispatch,
/// LOAD payloads, CRC, every reply's bytes, RESULT and LOG formatting); its board operations are
/// answered by an emulated board's own decisions and Wasmtime runtime (what WAMR does on a real
/// board). One board per process; the core is not thread-safe, so every call into it holds
/// <see cref="Gate"/>, and bytes reach the link under a lock of their own.
/// </summary>
internal static unsafe class CoreBoard
{
    /// <summary>The order of enum wm_code in firmware/agent/core/include/wasmorch/agent.h.</summary>
    private static readonly string[] Codes =
        ["OK", "BAD_ARGS", "BUSY", "TOO_LARGE", "NO_MODULE", "NO_FUNC", "NO_MEMORY", "CRC_MISMATCH", "TIMEOUT", "INVALID_MODULE"];

    private static readonly Stopwatch Clock = Stopwatch.StartNew();
    private static readonly object SendGate = new();
    private static Board _board = null!;
    private static CommandHandler _handler = null!;
    private static Stream? _link;
    private static Action? _go;
    private static IntPtr[] _hello = [];
    private static (uint MaxModule, uint MaxModules) _limits;

    /// <summary>Held around every call into the core.</summary>
    public static object Gate { get; } = new();

    public static uint NowMs => (uint)Clock.ElapsedMilliseconds;

    /// <param name="linkKey">The core's link key (AUTH, docs/protocol.md §6a), or null for an open agent.</param>
    public static void Start(Board board, byte[]? linkKey)
    {
        _board = board;
        _handler = new CommandHandler(board);
        var hello = Parse(_handler.Hello());
        // The core keeps these pointers for as long as it runs: allocated once, never freed.
        _hello = [.. new[] { AgentKeys.Agent, AgentKeys.Board, AgentKeys.Runtime, AgentKeys.Modes, AgentKeys.AotTarget }
            .Select(k => hello[k] is { } v && v != "-" ? Marshal.StringToCoTaskMemUTF8(v) : IntPtr.Zero),
            // CAPS (§6c): the board's capabilities, answered by the core.
            Marshal.StringToCoTaskMemUTF8(Parse(_handler.Caps())[AgentKeys.Caps] is { } caps and not "-" ? caps : "")];
        _limits = (uint.Parse(hello[AgentKeys.MaxModule]!, CultureInfo.InvariantCulture), uint.Parse(hello[AgentKeys.MaxModules]!, CultureInfo.InvariantCulture));
        board.Attach(new Output());
        var callbacks = new NativeCore.Callbacks
        {
            Send = &Send,
            UptimeMs = &UptimeMs,
            UptimeUs = &UptimeUs,
            Hello = &Hello,
            Status = &Status,
            LoadCheck = &LoadCheck,
            LoadCommit = &LoadCommit,
            StartPrepare = &StartPrepare,
            StartGo = &StartGo,
            Stop = &Stop,
            Unload = &Unload,
            Random = &Random,
        };
        // The core keeps the key's address for as long as it runs: copied once to memory never freed.
        byte* key = null;
        if (linkKey is not null)
        {
            key = (byte*)NativeMemory.Alloc((nuint)linkKey.Length);
            linkKey.CopyTo(new Span<byte>(key, linkKey.Length));
        }
        lock (Gate)
        {
            NativeCore.Init(&callbacks, (uint)board.Options.LoadTimeout.TotalMilliseconds, board.Options.Baseline ? 0 : 1, key, (nuint)(linkKey?.Length ?? 0));
        }
    }

    /// <summary>A new peer: the core goes back to line mode, un-negotiated; the first one after start hears BOOT.</summary>
    public static void Connect(Stream link)
    {
        lock (Gate)
        {
            lock (SendGate)
            {
                _link = link;
            }
            NativeCore.ResetLink();
            if (_board.TakeBootAnnouncement())
            {
                NativeCore.Boot();
            }
        }
    }

    public static void Disconnect(Stream link)
    {
        lock (Gate)
        {
            lock (SendGate)
            {
                if (!ReferenceEquals(_link, link))
                {
                    return;
                }
                _link = null;
            }
            NativeCore.ResetLink();
        }
    }

    /// <summary>True once <see cref="UseReceivePath"/> put the boards' receive path in front of the core.</summary>
    private static bool _receivePath;

    /// <summary>
    /// Bytes go through the core's receive path (a ring of <paramref name="ringSize"/> bytes, payloads
    /// landed directly) and the core takes them only when <see cref="Poll"/> runs, as a board's COMM
    /// loop would when the link is faster than it: a burst then overruns the ring for real.
    /// </summary>
    public static void UseReceivePath(int ringSize)
    {
        lock (Gate)
        {
            NativeCore.RxInit((nuint)ringSize);
            _receivePath = true;
        }
    }

    public static void Feed(ReadOnlySpan<byte> bytes)
    {
        fixed (byte* data = bytes)
        {
            if (_receivePath)
            {
                // The producer side has its own lock: it runs beside the COMM loop, like an interrupt.
                NativeCore.RxPut(data, (nuint)bytes.Length);
                return;
            }
            lock (Gate)
            {
                NativeCore.Feed(data, (nuint)bytes.Length, NowMs);
            }
        }
    }

    public static void Poll()
    {
        lock (Gate)
        {
            if (_receivePath)
            {
                NativeCore.Service(NowMs);
            }
            else
            {
                NativeCore.Poll(NowMs);
            }
        }
    }

    private static void Write(ReadOnlySpan<byte> bytes)
    {
        lock (SendGate)
        {
            try
            {
                _link?.Write(bytes);
            }
            catch (IOException)
            {
                // The peer went away; a UART would have sent the bytes into the void as well.
                _link = null;
            }
        }
    }

    private static AgentLine Parse(AgentLineBuilder builder)
    {
        var bytes = builder.ToBytes();
        return AgentLineParser.TryParse(bytes.AsSpan(0, bytes.Length - 1), out var line, out var error)
            ? line!
            : throw new InvalidOperationException($"the emulator built an unparseable line ({error}): {builder}");
    }

    private static AgentLine Line(string text) =>
        AgentLineParser.TryParse(Encoding.ASCII.GetBytes(text), out var line, out var error)
            ? line!
            : throw new InvalidOperationException($"unparseable request to the board ({error}): {text}");

    private static string Text(byte* text) => Marshal.PtrToStringUTF8((IntPtr)text) ?? string.Empty;

    private static void Copy(string value, byte* buffer, nuint capacity)
    {
        var bytes = Encoding.ASCII.GetBytes(value);
        var length = Math.Min(bytes.Length, (int)capacity - 1);
        bytes.AsSpan(0, length).CopyTo(new Span<byte>(buffer, length));
        buffer[length] = 0;
    }

    /// <summary>A refusal line (ERR code=…, RESULT status=…, LOAD_ERR code=…) as the core's code and message.</summary>
    private static int Refusal(AgentLine line, string codeKey, byte* msg, nuint capacity)
    {
        Copy(line[AgentKeys.Msg] ?? string.Empty, msg, capacity);
        return KnownCode(line, codeKey);
    }

    /// <summary>The core's number for the line's code; one the core does not know ends the host loudly rather than reach C as -1.</summary>
    private static int KnownCode(AgentLine line, string codeKey = AgentKeys.Code)
    {
        var code = Array.IndexOf(Codes, line[codeKey]);
        return code > 0 ? code : throw new InvalidOperationException($"the board answered a code the core does not know: {line}");
    }

    [UnmanagedCallersOnly]
    private static void Send(byte* data, nuint length) => Write(new ReadOnlySpan<byte>(data, (int)length));

    [UnmanagedCallersOnly]
    private static uint UptimeMs() => (uint)_board.UptimeMs;

    [UnmanagedCallersOnly]
    private static uint UptimeUs() => (uint)Clock.Elapsed.TotalMicroseconds;

    [UnmanagedCallersOnly]
    private static void Hello(byte** strings, uint* maxModule, uint* maxModules)
    {
        for (var i = 0; i < _hello.Length; i++)
        {
            strings[i] = (byte*)_hello[i];
        }
        *maxModule = _limits.MaxModule;
        *maxModules = _limits.MaxModules;
    }

    [UnmanagedCallersOnly]
    private static void Status(uint* numbers, byte* module, byte* func, byte* modules, nuint modulesCap, byte* crcs, nuint crcsCap, byte* pwm, nuint pwmCap)
    {
        var status = Parse(_handler.Status());
        numbers[0] = status[AgentKeys.State] == "RUNNING" ? 1u : 0u;
        numbers[1] = status.TryGetInt64(AgentKeys.Job, out var job) ? (uint)job : 0;
        numbers[2] = uint.Parse(status[AgentKeys.Gpio]![2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        numbers[3] = uint.Parse(status[AgentKeys.GpioWrites]!, CultureInfo.InvariantCulture);
        numbers[4] = uint.Parse(status[AgentKeys.LogDropped]!, CultureInfo.InvariantCulture);
        numbers[5] = (uint)_board.EventsDropped;
        Copy(_board.Pwm.Status() ?? "", pwm, pwmCap);
        Copy(status[AgentKeys.Module]!, module, 33);
        Copy(status[AgentKeys.Func]!, func, 65);
        Copy(status[AgentKeys.Modules] is "-" or null ? "" : status[AgentKeys.Modules]!, modules, modulesCap);
        Copy(_board.ModuleIds().Length == 0 ? "" : string.Join(',', _board.ModuleCrcs()), crcs, crcsCap);
    }

    [UnmanagedCallersOnly]
    private static int LoadCheck(byte* id, uint size, byte* msg, nuint capacity)
    {
        var refusal = _handler.CheckLoad(Line($"LOAD module_id={Text(id)} size={size} crc32=00000000"), out _, out _, out _);
        return refusal is null ? 0 : Refusal(Parse(refusal), AgentKeys.Code, msg, capacity);
    }

    [UnmanagedCallersOnly]
    private static int LoadCommit(byte* id, byte* buffer, uint size, uint crc, byte* msg, nuint capacity)
    {
        var reply = Parse(_handler.FinishLoad(Text(id), new ReadOnlySpan<byte>(buffer, (int)size).ToArray(), crc));
        return reply.Verb == AgentVerbs.LoadOk ? 0 : Refusal(reply, AgentKeys.Code, msg, capacity);
    }

    [UnmanagedCallersOnly]
    private static int StartPrepare(byte* id, byte* func, byte* args, uint* job, byte* msg, nuint capacity)
    {
        var values = Text(args);
        var (reply, go) = _handler.Start(Line($"START module_id={Text(id)} func={Text(func)}{(values.Length == 0 ? "" : $" args=\"{values}\"")}"));
        var line = Parse(reply);
        if (line.Verb != AgentVerbs.StartOk)
        {
            return Refusal(line, line.Verb == AgentVerbs.Result ? AgentKeys.Status : AgentKeys.Code, msg, capacity);
        }
        *job = uint.Parse(line[AgentKeys.Job]!, CultureInfo.InvariantCulture);
        _go = go;
        return 0;
    }

    [UnmanagedCallersOnly]
    private static void StartGo() => Interlocked.Exchange(ref _go, null)?.Invoke();

    [UnmanagedCallersOnly]
    private static int Stop(byte* id, int* pending, uint* job)
    {
        var reply = Parse(_handler.Stop(Line($"STOP module_id={Text(id)}")));
        if (reply.Verb != AgentVerbs.StopOk)
        {
            return KnownCode(reply);
        }
        *pending = reply[AgentKeys.Status] == "PENDING" ? 1 : 0;
        *job = reply.TryGetInt64(AgentKeys.Job, out var number) ? (uint)number : 0;
        return 0;
    }

    [UnmanagedCallersOnly]
    private static void Random(byte* buffer, nuint length) => System.Security.Cryptography.RandomNumberGenerator.Fill(new Span<byte>(buffer, (int)length));

    [UnmanagedCallersOnly]
    private static int Unload(byte* id)
    {
        var reply = Parse(_handler.Unload(Line($"UNLOAD module_id={Text(id)}")));
        return reply.Verb == AgentVerbs.UnloadOk ? 0 : KnownCode(reply);
    }

    /// <summary>The board's RESULT and LOG lines, formatted again by the core so that every byte on the link is the core's.</summary>
    /// <summary>An EVENT the board's publish made, as the core formats it (wm_format_event).</summary>
    private static bool WriteEvent(AgentLine line)
    {
        var data = EventLine.Data(line) ?? throw new InvalidOperationException($"the board sent a malformed EVENT: {line}");
        Span<byte> buffer = stackalloc byte[NativeCore.LineMax];
        fixed (byte* b = buffer)
        fixed (byte* d = data)
        {
            var length = NativeCore.FormatEvent(b, line[AgentKeys.ModuleId]!, uint.Parse(line[AgentKeys.Job]!, CultureInfo.InvariantCulture),
                uint.Parse(line[AgentKeys.UptimeMs]!, CultureInfo.InvariantCulture), line[AgentKeys.Topic]!, d, (nuint)data.Length);
            if (length == 0)
            {
                throw new InvalidOperationException($"the core refused to format the board's EVENT: {line}");
            }
            Write(buffer[..(int)length]);
        }
        return true;
    }

    private sealed class Output : IBoardOutput
    {
        public bool ExtensionsEnabled => NativeCore.PeerNegotiated() != 0;

        public void TryEnqueue(AgentLineBuilder line)
        {
            var result = Parse(line);
            if (result.Verb != AgentVerbs.Result)
            {
                throw new InvalidOperationException($"the board sent an asynchronous {result.Verb} the core would not: {line}");
            }
            Span<byte> buffer = stackalloc byte[NativeCore.LineMax];
            fixed (byte* b = buffer)
            {
                var length = NativeCore.FormatResult(b, result[AgentKeys.ModuleId]!, result[AgentKeys.Func]!, uint.Parse(result[AgentKeys.Job]!, CultureInfo.InvariantCulture),
                    result[AgentKeys.Status]!, result[AgentKeys.Value], result[AgentKeys.Type], result[AgentKeys.Msg],
                    uint.Parse(result[AgentKeys.ElapsedUs]!, CultureInfo.InvariantCulture));
                Write(buffer[..(int)length]);
            }
        }

        public bool TryEnqueueOptional(AgentLineBuilder line)
        {
            var log = Parse(line);
            if (log.Verb == AgentVerbs.Event)
            {
                return WriteEvent(log);
            }
            Span<byte> buffer = stackalloc byte[NativeCore.LineMax];
            fixed (byte* b = buffer)
            {
                var length = NativeCore.FormatLog(b, log[AgentKeys.ModuleId]!, uint.Parse(log[AgentKeys.Job]!, CultureInfo.InvariantCulture),
                    uint.Parse(log[AgentKeys.UptimeMs]!, CultureInfo.InvariantCulture), log[AgentKeys.Msg]!);
                Write(buffer[..(int)length]);
            }
            return true;
        }
    }
}
