using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Wasmorch.Emulator.Agent;
using Wasmorch.Emulator.Peripherals;
using Wasmorch.Emulator.Runtime;
using Wasmorch.Protocol.Agent;

namespace Wasmorch.Emulator;

/// <summary>
/// One emulated board: its loaded modules, GPIO, clock and RUNNER. The state outlives any one
/// link connection, just as a real board keeps running when the UART cable is pulled.
/// </summary>
public sealed partial class Board : IDisposable
{
    private readonly Dictionary<string, LoadedModule> _modules = new(StringComparer.Ordinal);
    private readonly Stopwatch _uptime = Stopwatch.StartNew();
    private readonly ILogger _logger;
    private IBoardOutput? _output;
    private int _lastJob;
    private long _logDropped;

    public Board(BoardOptions options, WasmRuntime runtime, ILogger logger)
    {
        Options = options;
        Runtime = runtime;
        _logger = logger;
        Gpio = new Gpio(options.GpioPins);
        Runner = new Runner(this, runtime, logger);
        Sensor = new Tmp102(options.TemperatureMilliC);
        I2c0 = new I2cBus().Attach(Tmp102.DefaultAddress, Sensor);
    }

    /// <summary>The simulated TMP102 on I2C bus 0.</summary>
    public Tmp102 Sensor { get; }

    public I2cBus I2c0 { get; }

    public PwmChannels Pwm { get; } = new();

    public KvStore Kv { get; } = new();

    /// <summary>ADC channel 0 now, in 12-bit counts.</summary>
    public int AdcRead() => Options.AdcWaveform.At(UptimeMs);

    private long _eventsDropped;

    /// <summary>Events not sent: over a job's rate, the link busy, or no peer that negotiated extensions.</summary>
    public long EventsDropped => Interlocked.Read(ref _eventsDropped);

    /// <summary>
    /// publish (§6c): an EVENT line to a peer that negotiated extensions, within the job's rate;
    /// 0 when it is queued, RateLimited (and counted) when it is dropped.
    /// </summary>
    public int Publish(JobContext job, string topic, ReadOnlySpan<byte> data)
    {
        var output = Volatile.Read(ref _output);
        if (!job.Events.TryTake() || output is not { ExtensionsEnabled: true }
            || !output.TryEnqueueOptional(EventLine.Build(job.ModuleId, job.Job, UptimeMs, topic, data)))
        {
            Interlocked.Increment(ref _eventsDropped);
            return Protocol.Modules.NativeAbi.RateLimited;
        }
        return 0;
    }

    public string Name => Options.Name;

    public BoardOptions Options { get; }

    public WasmRuntime Runtime { get; }

    public Gpio Gpio { get; }

    public Runner Runner { get; }

    public long UptimeMs => _uptime.ElapsedMilliseconds;

    /// <summary>The board's clock at full resolution (the timer's ticks are kept on it, so none comes a fraction of a millisecond early).</summary>
    public TimeSpan Uptime => _uptime.Elapsed;

    internal ILogger Logger => _logger;

    public int NextJobId() => Interlocked.Increment(ref _lastJob);

    public bool TryGetModule(string id, out LoadedModule module)
    {
        lock (_modules)
        {
            return _modules.TryGetValue(id, out module!);
        }
    }

    public string[] ModuleIds()
    {
        lock (_modules)
        {
            return [.. _modules.Keys.Order(StringComparer.Ordinal)];
        }
    }

    /// <summary><c>id:crc32</c> of each module, for STATUS: lets a gateway skip re-uploading what is there.</summary>
    public string[] ModuleCrcs()
    {
        lock (_modules)
        {
            return [.. _modules.Values.OrderBy(m => m.Id, StringComparer.Ordinal).Select(m => $"{m.Id}:{Crc32Hex.Format(m.Crc)}")];
        }
    }

    /// <summary>Bytes of STATUS's modules= list (ids and commas); call under the module lock.</summary>
    private int ModuleListLength() => _modules.Keys.Sum(k => k.Length) + Math.Max(0, _modules.Count - 1);

    public bool HasRoomFor(string id)
    {
        lock (_modules)
        {
            return _modules.ContainsKey(id)
                || (_modules.Count < Options.MaxModules && ModuleListLength() + 1 + id.Length <= ProtocolLimits.MaxModuleListLength);
        }
    }

    /// <summary>Installs a verified module, replacing any module of the same id only now.</summary>
    public void Install(LoadedModule module)
    {
        LoadedModule? old;
        lock (_modules)
        {
            _modules.TryGetValue(module.Id, out old);
            _modules[module.Id] = module;
        }
        old?.Dispose();
    }

    private Agent.PendingUpload? _pendingUpload;

    /// <summary>
    /// The XLOAD that <paramref name="wanted"/> describes: the interrupted one, to resume, when it is
    /// the same transfer; else a new one, which replaces any interrupted other (one is kept, as an
    /// MCU keeps one module buffer in reserve).
    /// </summary>
    internal Agent.PendingUpload TakeUpload(Agent.PendingUpload wanted)
    {
        lock (_modules)
        {
            if (_pendingUpload is { } pending && pending.IsSameTransfer(wanted))
            {
                return pending;
            }
            _pendingUpload = wanted;
            return wanted;
        }
    }

    /// <summary>The upload ended (installed or refused): nothing is left to resume.</summary>
    internal void EndUpload(Agent.PendingUpload upload)
    {
        lock (_modules)
        {
            if (_pendingUpload == upload)
            {
                _pendingUpload = null;
            }
        }
    }

    private int _bootAnnounced;

    /// <summary>True exactly once per board start: the caller sends the BOOT line (§6).</summary>
    public bool TakeBootAnnouncement() => Interlocked.Exchange(ref _bootAnnounced, 1) == 0;

    /// <summary>The link connection that now receives asynchronous lines (RESULT); null when none.</summary>
    public void Attach(IBoardOutput output) => Interlocked.Exchange(ref _output, output);

    public void Detach(IBoardOutput output) => Interlocked.CompareExchange(ref _output, null, output);

    /// <summary>Sends an asynchronous line, as a board prints to its UART whether or not anyone listens.</summary>
    public void Emit(AgentLineBuilder line)
    {
        var output = Volatile.Read(ref _output);
        if (output is null)
        {
            LogNoListener(_logger, Name, line);
            return;
        }
        output.TryEnqueue(line);
    }

    /// <summary>LOG lines not sent because the link was busy (a module logging in a tight loop).</summary>
    public long LogDropped => Interlocked.Read(ref _logDropped);

    /// <summary>
    /// A module's log message: always to this process's log, and as a LOG line to a peer that
    /// negotiated extensions with HELLO (a seed-baseline gateway would not expect one).
    /// </summary>
    public void Log(JobContext job, string message)
    {
        LogFromModule(_logger, Name, job.ModuleId, job.Job, message);
        var output = Volatile.Read(ref _output);
        if (output is { ExtensionsEnabled: true })
        {
            var line = new AgentLineBuilder(AgentVerbs.Log).Add(AgentKeys.ModuleId, job.ModuleId).Add(AgentKeys.Job, job.Job).Add(AgentKeys.UptimeMs, UptimeMs).Add(AgentKeys.Msg, message);
            if (!output.TryEnqueueOptional(line))
            {
                Interlocked.Increment(ref _logDropped);
            }
        }
    }

    /// <summary>Removes an idle module (UNLOAD); false when no such module is loaded.</summary>
    public bool Remove(string id)
    {
        LoadedModule? module;
        lock (_modules)
        {
            if (!_modules.Remove(id, out module))
            {
                return false;
            }
        }
        Kv.Clear(id);
        module.Dispose();
        return true;
    }

    public void Dispose()
    {
        lock (_modules)
        {
            foreach (var module in _modules.Values)
            {
                module.Dispose();
            }
            _modules.Clear();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Board {Board}: no link connected, dropped: {Line}")]
    private static partial void LogNoListener(ILogger logger, string board, AgentLineBuilder line);

    [LoggerMessage(Level = LogLevel.Information, Message = "Board {Board} [{Module} job {Job}]: {Message}")]
    private static partial void LogFromModule(ILogger logger, string board, string module, int job, string message);
}
