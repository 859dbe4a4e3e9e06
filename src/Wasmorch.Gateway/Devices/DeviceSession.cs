using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Wasmorch.Transport;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Agent.Replies;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Protocol.Modules;

namespace Wasmorch.Gateway.Devices;

/// <summary>
/// The gateway's one session with one device: commands go out one at a time (the protocol's rule),
/// the link is (re)opened on demand, and a link that failed or timed out is dropped so that a late
/// reply can never be taken for the answer to the next command. What happens on the device is
/// told to an <see cref="IDeviceObserver"/> (the state file), which the session never calls otherwise.
/// The session is where agent lines end: what it returns and tells is typed (Protocol's Agent.Replies).
/// </summary>
public sealed partial class DeviceSession : IDevice, IAsyncDisposable
{
    private readonly SemaphoreSlim _commandLock = new(1, 1);
    private readonly ILogger _logger;
    private readonly TimeSpan _replyTimeout;
    private readonly IDeviceObserver? _observer;
    private readonly byte[]? _linkKey;
    private DeviceConnection? _connection;

    /// <summary>Links opened so far: the first one hears a BOOT the board sent while no one listened.</summary>
    private int _linksOpened;

    public DeviceSession(string name, IDeviceLink link, TimeSpan replyTimeout, ILogger logger, IDeviceObserver? observer = null, byte[]? linkKey = null)
    {
        Name = name;
        Link = link;
        _replyTimeout = replyTimeout;
        _logger = logger;
        _observer = observer;
        _linkKey = linkKey;
    }

    public string Name { get; }

    public IDeviceLink Link { get; }

    public bool IsConnected => _connection?.IsOpen == true;

    /// <summary>What the agent offered on the current link (null before the first connection).</summary>
    public AgentCapabilities? Capabilities { get; private set; }

    /// <summary>Raised for each LOG line (from the link's read loop: handlers must not block).</summary>
    public event Action<DeviceSession, LogReport>? LogReceived;

    /// <summary>A well-formed EVENT line a module published (§6c); a malformed one is logged and dropped here.</summary>
    public event Action<DeviceSession, EventReport>? EventReceived;

    /// <summary>Counts the commands that timed out: a request that waited through one fails with it.</summary>
    private int _timeouts;

    private string _lastTimeout = string.Empty;

    internal async Task<T> ExclusiveAsync<T>(Func<DeviceConnection, Task<T>> action, CancellationToken ct)
    {
        var timeoutsBefore = Volatile.Read(ref _timeouts);
        await _commandLock.WaitAsync(ct);
        try
        {
            // The device stopped answering while this request waited its turn: it fails now, with
            // the one before it, instead of spending its own full deadline on a silent device.
            if (Volatile.Read(ref _timeouts) != timeoutsBefore)
            {
                throw new GatewayException(HostErrorCodes.Timeout, $"not sent: {_lastTimeout} while this request waited its turn");
            }
            var connection = await EnsureConnectedAsync(ct);
            try
            {
                return await action(connection);
            }
            catch (GatewayException ex) when (ex.Code is HostErrorCodes.Timeout or HostErrorCodes.ProtocolError)
            {
                if (ex.Code == HostErrorCodes.Timeout)
                {
                    _lastTimeout = ex.Message;
                    Interlocked.Increment(ref _timeouts);
                }
                // After a missed deadline or a reply that does not answer its command, the next line
                // could belong to either: a new link keeps replies and commands paired.
                connection.Close($"dropped after {(ex.Code == HostErrorCodes.Timeout ? "a timeout" : "a reply that does not match its command")} ({ex.Message})");
                throw;
            }
            catch (OperationCanceledException)
            {
                connection.Close("dropped: a command was cancelled mid-exchange");
                throw;
            }
        }
        finally
        {
            _commandLock.Release();
        }
    }

    private async Task<DeviceConnection> EnsureConnectedAsync(CancellationToken ct)
    {
        if (_connection is { IsOpen: true } open)
        {
            return open;
        }
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
            _connection = null;
        }
        Stream stream;
        try
        {
            stream = await Link.OpenAsync(ct);
        }
        catch (LinkUnavailableException ex)
        {
            throw new GatewayException(HostErrorCodes.DeviceUnreachable, ex.Message);
        }
        var connection = new DeviceConnection(Name, stream, _logger, new ConnectionEvents(
            Log: line => LogReceived?.Invoke(this, LogReport.Parse(line)),
            Event: OnEvent,
            JobEnded: (job, line) => _observer?.JobEnded(Name, job, JobResult.Parse(line)),
            Reset: reason => _observer?.Reset(Name, reason),
            Closed: reason => _observer?.LinkLost(Name, reason),
            FirstLink: _linksOpened++ == 0));
        try
        {
            Capabilities = await NegotiateAsync(connection, ct);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        var agent = Capabilities.IsBaseline ? "seed baseline" : Capabilities.Agent ?? "?";
        LogConnected(_logger, Name, Link.Description, agent);
        _observer?.Connected(Name, agent);
        _connection = connection;
        return connection;
    }

    private void OnEvent(AgentLine line)
    {
        if (EventReport.Parse(line) is { } report)
        {
            EventReceived?.Invoke(this, report);
        }
        else
        {
            LogMalformedEvent(_logger, Name, line.ToString());
        }
    }

    /// <summary>How long a new link is listened to, and what arrives dropped, before the cancel line.</summary>
    private static readonly TimeSpan StaleInputQuiet = TimeSpan.FromMilliseconds(25);

    /// <summary>
    /// HELLO on every new link: an agent may have been replaced (reflashed) since the last one.
    /// ERR means a seed-baseline agent, with which only the baseline commands are used.
    /// </summary>
    private async Task<AgentCapabilities> NegotiateAsync(DeviceConnection connection, CancellationToken ct)
    {
        // A serial line keeps what the agent sent while no one listened (the LOAD_ERR of a payload
        // its last peer abandoned, say): a moment for it to arrive and be dropped as stray, so that
        // it is never taken for the answer to this link's cancel line.
        await Task.Delay(StaleInputQuiet, ct);
        // §1: whatever a previous peer left half-sent is cancelled, never completed into a command.
        var cancelled = await connection.RequestRawAsync(CancelLine.Bytes, "the cancel line", CancelLine.IsAnswer, _replyTimeout, ct);
        if (cancelled.Verb == AgentVerbs.LoadErr)
        {
            // The agent was inside a payload its previous peer abandoned; it has given it up, and
            // the cancel line was part of it: send it again, now read as a line.
            await connection.RequestRawAsync(CancelLine.Bytes, "the cancel line", l => l.Verb == AgentVerbs.Err, _replyTimeout, ct);
        }
        var reply = await connection.RequestAsync(new AgentLineBuilder(AgentVerbs.Hello).Add(AgentKeys.Proto, 1), l => l.Verb is AgentVerbs.HelloOk or AgentVerbs.Err, _replyTimeout, ct);
        if (reply.Verb != AgentVerbs.HelloOk)
        {
            return AgentCapabilities.Baseline;
        }
        if (reply[AgentKeys.Proto] != "1")
        {
            // §8: proto changes only for a change an old peer would misread, so this gateway must not drive it.
            throw new GatewayException(HostErrorCodes.ProtocolError,
                $"device '{Name}' speaks protocol {reply[AgentKeys.Proto] ?? "(none given)"}; this gateway speaks protocol 1 and will not drive it");
        }
        var capabilities = AgentCapabilities.FromHello(reply);
        if (capabilities.Offers(LinkAuth.Extension))
        {
            await AuthenticateAsync(connection, reply[LinkAuth.NonceKey], ct);
        }
        // §6c: what modules may use here, asked once per link. HELLO_OK has no room to list CAPS, so
        // the gateway asks every agent that answered HELLO; one without it answers ERR BAD_COMMAND.
        var caps = await connection.RequestAsync(new AgentLineBuilder(AgentVerbs.Caps), l => l.Verb is AgentVerbs.CapsOk or AgentVerbs.Err, _replyTimeout, ct);
        if (caps.Verb == AgentVerbs.CapsOk)
        {
            return capabilities.WithCaps(caps);
        }
        if (caps[AgentKeys.Code] != AgentErrorCodes.BadCommand)
        {
            throw new GatewayException(HostErrorCodes.ProtocolError, $"device '{Name}' answered CAPS with {caps}");
        }
        return capabilities;
    }

    /// <summary>
    /// §6a: proves this gateway holds the device's link key, and checks that the device holds it
    /// too (a device that answers without it is not the device it claims to be).
    /// </summary>
    private async Task AuthenticateAsync(DeviceConnection connection, string? agentNonce, CancellationToken ct)
    {
        if (_linkKey is null)
        {
            throw new GatewayException(HostErrorCodes.Unauthorized,
                $"device '{Name}' requires link authentication and this gateway has no link key ([gateway] link_key, --link-key)");
        }
        if (agentNonce is null)
        {
            throw new GatewayException(HostErrorCodes.ProtocolError, $"device '{Name}' offers AUTH but its HELLO_OK carries no {LinkAuth.NonceKey}");
        }
        var challenge = LinkAuth.Answer(_linkKey, agentNonce);
        var reply = await connection.RequestAsync(challenge.Command, l => l.Verb is AgentVerbs.AuthOk or AgentVerbs.Err, _replyTimeout, ct);
        if (reply.Verb != AgentVerbs.AuthOk)
        {
            throw new GatewayException(HostErrorCodes.Unauthorized,
                $"device '{Name}' refused this gateway's link key ({reply[AgentKeys.Msg] ?? reply.ToString()}); the gateway and the device must share one key");
        }
        if (!challenge.ProvedBy(reply))
        {
            throw new GatewayException(HostErrorCodes.Unauthorized, $"device '{Name}' answered AUTH without proof of the link key: it is not the device it claims to be");
        }
    }

    /// <summary>
    /// Opens (and negotiates) the link unless it is open or a command is using the device (which
    /// opens it anyway). A failure here never fails the requests that wait meanwhile: they try for
    /// themselves. Throws <see cref="GatewayException"/> when the device cannot be reached.
    /// </summary>
    public async Task ConnectIfIdleAsync(CancellationToken ct)
    {
        if (IsConnected || !await _commandLock.WaitAsync(0, ct))
        {
            return;
        }
        try
        {
            await EnsureConnectedAsync(ct);
        }
        finally
        {
            _commandLock.Release();
        }
    }

    /// <summary>What the agent offers, connecting (and negotiating) first if need be.</summary>
    public Task<AgentCapabilities> CapabilitiesAsync(CancellationToken ct) =>
        ExclusiveAsync(_ => Task.FromResult(Capabilities ?? AgentCapabilities.Baseline), ct);

    /// <summary>PING where offered; a baseline agent gets STATUS, the cheapest baseline command.</summary>
    public async Task<AgentReply<PingReport>> PingAsync(CancellationToken ct)
    {
        var reply = await ExclusiveAsync(c => Capabilities?.Offers(AgentCapabilities.Ping) == true
            ? c.RequestAsync(new AgentLineBuilder(AgentVerbs.Ping), l => l.Verb is AgentVerbs.Pong or AgentVerbs.Err, _replyTimeout, ct)
            : c.RequestAsync(new AgentLineBuilder(AgentVerbs.Status), l => l.Verb is AgentVerbs.Status or AgentVerbs.Err, _replyTimeout, ct), ct);
        if (reply.Verb == AgentVerbs.Status)
        {
            Observed(StatusReport.Parse(reply));
        }
        return PingReport.Parse(reply);
    }

    public async Task<AgentError?> UnloadAsync(string moduleId, CancellationToken ct)
    {
        var reply = await ExclusiveAsync(c => Capabilities?.Offers(AgentCapabilities.Unload) == true
            ? c.RequestAsync(new AgentLineBuilder(AgentVerbs.Unload).Add(AgentKeys.ModuleId, moduleId), l => l.Verb is AgentVerbs.UnloadOk or AgentVerbs.Err, _replyTimeout, ct)
            : throw new GatewayException(HostErrorCodes.Unsupported, $"device '{Name}' ({Describe(Capabilities)}) does not offer UNLOAD"), ct);
        if (reply.Verb != AgentVerbs.UnloadOk)
        {
            return AgentError.From(reply);
        }
        _observer?.ModuleUnloaded(Name, moduleId);
        return null;
    }

    public async Task<AgentReply<SimReport>> SimAsync(SimInputs inputs, CancellationToken ct) =>
        SimReport.Parse(await ExclusiveAsync(c => Capabilities?.Offers(AgentCapabilities.Sim) == true
            ? c.RequestAsync(inputs.ToCommand(), l => l.Verb is AgentVerbs.SimOk or AgentVerbs.Err, _replyTimeout, ct)
            : throw new GatewayException(HostErrorCodes.Unsupported, $"device '{Name}' ({Describe(Capabilities)}) has no simulated inputs (SIM): its inputs are real pins and parts"), ct));

    /// <summary>Every STATUS reply reaches the observer: the device is the truth for what it holds.</summary>
    private AgentReply<StatusReport> Observed(AgentReply<StatusReport> reply)
    {
        if (reply.Value is { } status)
        {
            _observer?.StatusReported(Name, status);
        }
        return reply;
    }

    public void ReportHeld(HeldModule held) => _observer?.ModuleHeld(Name, held);

    private static string Describe(AgentCapabilities? capabilities) =>
        capabilities is null or { IsBaseline: true } ? "a seed-baseline agent" : capabilities.Agent ?? "its agent";

    public async Task<AgentReply<StatusReport>> StatusAsync(CancellationToken ct) =>
        Observed(StatusReport.Parse(await ExclusiveAsync(c => c.RequestAsync(new AgentLineBuilder(AgentVerbs.Status), l => l.Verb is AgentVerbs.Status or AgentVerbs.Err, _replyTimeout, ct), ct)));

    public async Task<AgentReply<StopReport>> StopAsync(string moduleId, CancellationToken ct) =>
        StopReport.Parse(await ExclusiveAsync(async c => Matching(await c.RequestAsync(new AgentLineBuilder(AgentVerbs.Stop).Add(AgentKeys.ModuleId, moduleId),
            l => l.Verb is AgentVerbs.StopOk or AgentVerbs.Err, _replyTimeout, ct), "STOP", moduleId), ct));

    /// <summary>A reply must answer its own command: a success naming another module is a protocol error, never taken as success.</summary>
    private AgentLine Matching(AgentLine reply, string command, string moduleId, string? func = null)
    {
        if (reply.Verb != AgentVerbs.Err && reply[AgentKeys.ModuleId] is { } id && id != moduleId)
        {
            throw new GatewayException(HostErrorCodes.ProtocolError, $"device '{Name}' answered {command} of module '{moduleId}' with a reply for module '{id}': '{reply}'");
        }
        if (func is not null && reply.Verb != AgentVerbs.Err && reply[AgentKeys.Func] is { } f && f != func)
        {
            throw new GatewayException(HostErrorCodes.ProtocolError, $"device '{Name}' answered {command} of {moduleId}.{func} with a reply for function '{f}': '{reply}'");
        }
        return reply;
    }

    /// <summary>Sends START; the reply is START_OK, an immediate RESULT (no job=) or ERR.</summary>
    public Task<StartReply> StartAsync(string moduleId, string func, string? args, CancellationToken ct) =>
        ExclusiveAsync(async c =>
        {
            var command = new AgentLineBuilder(AgentVerbs.Start).Add(AgentKeys.ModuleId, moduleId).Add(AgentKeys.Func, func).AddIfNotNull(AgentKeys.Args, string.IsNullOrEmpty(args) ? null : args);
            // Recorded as the reply is routed, so the job's RESULT (which may follow at once) finds its record.
            var reply = await c.RequestAsync(command, l => l.Verb is AgentVerbs.StartOk or AgentVerbs.Err || (l.Verb == AgentVerbs.Result && !l.Has(AgentKeys.Job)), _replyTimeout, ct,
                l =>
                {
                    if (l.Verb == AgentVerbs.StartOk && l.TryGetInt64(AgentKeys.Job, out var job))
                    {
                        _observer?.JobStarted(Name, job, moduleId, func, string.IsNullOrEmpty(args) ? null : args);
                    }
                });
            // The RESULT is awaited on the connection the job started on: a new link may reuse its number.
            Matching(reply, "START", moduleId, func);
            // An immediate RESULT is a refusal: any other status there is not an answer to START.
            if (reply.Verb == AgentVerbs.Result && reply[AgentKeys.Status] is not (AgentErrorCodes.NoModule or AgentErrorCodes.NoFunc or AgentErrorCodes.Busy or AgentErrorCodes.BadArgs or AgentErrorCodes.NoMemory))
            {
                throw new GatewayException(HostErrorCodes.ProtocolError, $"device '{Name}' answered START with a RESULT that is no refusal (status={reply[AgentKeys.Status]}, no job): '{reply}'");
            }
            if (reply.Verb != AgentVerbs.StartOk)
            {
                return new StartReply(null, AgentError.From(reply), NoJob);
            }
            if (!reply.TryGetInt64(AgentKeys.Job, out var started))
            {
                throw new GatewayException(HostErrorCodes.ProtocolError, $"device '{Name}' answered START with START_OK without job=: '{reply}'");
            }
            return new StartReply(started, null, async (job, timeout, waitCt) => JobResult.Parse(await c.WaitForJobAsync(job, timeout, waitCt)));
        }, ct);

    private static Task<JobResult> NoJob(long job, TimeSpan timeout, CancellationToken ct) =>
        throw new InvalidOperationException("START was refused: there is no job to wait for");

    /// <summary>
    /// The LOAD handshake: LOAD → LOAD_READY, raw payload, LOAD_OK/LOAD_ERR. Returns the final line,
    /// after the observer has recorded a LOAD_OK (<paramref name="artifact"/> says how the module was made).
    /// </summary>
    public async Task<LoadReply> LoadAsync(string moduleId, ReadOnlyMemory<byte> bytes, CancellationToken ct, IProgress<long>? progress = null, string artifact = HeldArtifacts.FileAsIs)
    {
        var (line, transfer) = await UploadAsync(moduleId, bytes, progress, ct);
        var reply = new LoadReply(LoadReport.Parse(line), transfer);
        if (reply.Reply.Value is { } loaded && _observer is not null)
        {
            try
            {
                await _observer.ModuleLoadedAsync(Name, new HeldModule
                {
                    ModuleId = moduleId,
                    // UploadAsync took LOAD_OK only with the CRC and size of these bytes.
                    Crc32 = loaded.Crc32,
                    Sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes.Span)),
                    Size = bytes.Length,
                    Artifact = artifact,
                    // What the dashboard's start form offers; an AOT image has none to read.
                    Exports = Protocol.Modules.WasmBinary.FunctionExports(bytes.Span),
                });
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The device holds the module whatever the state file says: the deploy succeeded, and the host is told what was not recorded.
                LogRecordFailed(_logger, ex, Name, moduleId);
                return reply with { RecordWarning = $"the device loaded the module, but the gateway could not record it in its state file ({ex.Message}); `devices` may not list it until the next STATUS" };
            }
        }
        return reply;
    }

    /// <summary>One upload's last line (LOAD_OK, LOAD_ERR or ERR) and how long its payload took.</summary>
    private readonly record struct Upload(AgentLine Line, TimeSpan Transfer);

    /// <summary>How many links an XLOAD may take: a dropped or stalled one is resumed on the next (§6b).</summary>
    private const int UploadAttempts = 4;

    private async Task<Upload> UploadAsync(string moduleId, ReadOnlyMemory<byte> module, IProgress<long>? progress, CancellationToken ct)
    {
        // Compressed once, whatever number of links the upload takes.
        byte[]? compressed = null;
        for (var attempt = 1; ; attempt++)
        {
            var resumable = false;
            var resumedAt = new System.Runtime.CompilerServices.StrongBox<long>(0);
            try
            {
                var reply = await ExclusiveAsync(c =>
                {
                    if (Capabilities?.Offers(AgentCapabilities.Xload) != true)
                    {
                        return LoadOnceAsync(c, moduleId, module, progress, ct);
                    }
                    resumable = true;
                    compressed ??= Lzss1.Compress(module.Span);
                    return XloadOnceAsync(c, moduleId, module, compressed, resumedAt, progress, ct);
                }, ct);
                // A resumed stream that fails its check carries bytes the agent took while no one
                // was sending (a new peer's first lines on a serial line, §6b): the agent dropped
                // it, so it is sent again whole, once.
                if (resumable && attempt < UploadAttempts && resumedAt.Value > 0 && reply.Line.Verb == AgentVerbs.LoadErr
                    && reply.Line[AgentKeys.Code] is AgentErrorCodes.CrcMismatch or AgentErrorCodes.BadPayload)
                {
                    LogUploadRestarts(_logger, Name, moduleId, resumedAt.Value, reply.Line[AgentKeys.Msg] ?? "");
                    continue;
                }
                // The agent kept what it took before the stall: the next XLOAD carries on from there.
                if (!(resumable && attempt < UploadAttempts && reply.Line.Verb == AgentVerbs.LoadErr && reply.Line[AgentKeys.Code] == AgentErrorCodes.Timeout))
                {
                    return reply;
                }
                LogUploadResumes(_logger, Name, moduleId, reply.Line[AgentKeys.Msg] ?? "stalled");
            }
            catch (GatewayException ex) when (resumable && attempt < UploadAttempts && ex.Code is HostErrorCodes.DeviceUnreachable or HostErrorCodes.Timeout)
            {
                LogUploadResumes(_logger, Name, moduleId, ex.Message);
            }
        }
    }

    /// <summary>
    /// One XLOAD on one link (§6b): the stream lzss1-compressed when that is smaller, sent from where
    /// the agent says it stands, within the window it announces.
    /// </summary>
    private async Task<Upload> XloadOnceAsync(DeviceConnection c, string moduleId, ReadOnlyMemory<byte> module, byte[] compressed, System.Runtime.CompilerServices.StrongBox<long> resumedAt, IProgress<long>? progress, CancellationToken ct)
    {
        var crc = Crc32Hex.Format(Crc32Hex.Compute(module.Span));
        var (codec, stream) = compressed.Length < module.Length ? (Lzss1.Name, compressed.AsMemory()) : ("none", module);
        var command = new AgentLineBuilder(AgentVerbs.Xload).Add(AgentKeys.ModuleId, moduleId).Add(AgentKeys.Size, module.Length).Add(AgentKeys.Crc32, crc)
            .Add(AgentKeys.Codec, codec).Add(AgentKeys.Zsize, stream.Length);
        var ready = await c.RequestAsync(command, l => l.Verb is AgentVerbs.XloadReady or AgentVerbs.Err or AgentVerbs.LoadErr, _replyTimeout, ct);
        if (ready.Verb != AgentVerbs.XloadReady)
        {
            return new Upload(Matching(ready, "XLOAD", moduleId), TimeSpan.Zero);
        }
        Matching(ready, "XLOAD", moduleId);
        if (!ready.TryGetInt64(AgentKeys.Offset, out var offset) || offset < 0 || offset > stream.Length
            || !ready.TryGetInt64(AgentKeys.Window, out var announced) || announced < 1)
        {
            throw new GatewayException(HostErrorCodes.ProtocolError, $"device '{Name}' answered XLOAD of {stream.Length} stream bytes without an offset among them and a positive window: '{ready}'");
        }
        var window = (int)Math.Min(announced, int.MaxValue);
        resumedAt.Value = offset;
        var transfer = Stopwatch.StartNew();
        var scaled = progress is null ? null : new Progress<long>(sent => progress.Report(sent * module.Length / Math.Max(1, stream.Length)));
        var reply = await c.RequestAfterWindowedWriteAsync(stream, offset, window, scaled, l => l.Verb is AgentVerbs.LoadOk or AgentVerbs.LoadErr or AgentVerbs.Err, WireTimeout(stream.Length), ct);
        return new Upload(CheckLoadOk(reply, moduleId, module.Length, crc), transfer.Elapsed);
    }

    private AgentLine CheckLoadOk(AgentLine reply, string moduleId, int size, string crc)
    {
        Matching(reply, "LOAD", moduleId);
        if (reply.Verb == AgentVerbs.LoadOk && (reply[AgentKeys.Crc32] is not { } acknowledged || !string.Equals(acknowledged, crc, StringComparison.OrdinalIgnoreCase)
            || (reply.TryGetInt64(AgentKeys.Size, out var acknowledgedSize) && acknowledgedSize != size)))
        {
            throw new GatewayException(HostErrorCodes.ProtocolError,
                $"device '{Name}' acknowledged a module other than the one sent (sent {size} bytes, crc32 {crc}): '{reply}'; it is not reported as loaded");
        }
        return reply;
    }

    private async Task<Upload> LoadOnceAsync(DeviceConnection c, string moduleId, ReadOnlyMemory<byte> module, IProgress<long>? progress, CancellationToken ct)
    {
        var crc = Crc32Hex.Format(Crc32Hex.Compute(module.Span));
        var command = new AgentLineBuilder(AgentVerbs.Load).Add(AgentKeys.ModuleId, moduleId).Add(AgentKeys.Size, module.Length).Add(AgentKeys.Crc32, crc);
        var ready = await c.RequestAsync(command, l => l.Verb is AgentVerbs.LoadReady or AgentVerbs.Err or AgentVerbs.LoadErr, _replyTimeout, ct);
        if (ready.Verb != AgentVerbs.LoadReady)
        {
            return new Upload(Matching(ready, "LOAD", moduleId), TimeSpan.Zero);
        }
        // No payload byte goes to a device that got ready for another module.
        Matching(ready, "LOAD", moduleId);
        var transfer = Stopwatch.StartNew();
        var reply = await c.RequestAfterWriteAsync(module, progress, l => l.Verb is AgentVerbs.LoadOk or AgentVerbs.LoadErr or AgentVerbs.Err, WireTimeout(module.Length), ct);
        return new Upload(CheckLoadOk(reply, moduleId, module.Length, crc), transfer.Elapsed);
    }

    /// <summary>Time allowed for a payload: the reply timeout plus the time at a slow 9600 baud.</summary>
    private TimeSpan WireTimeout(int bytes) => _replyTimeout + TimeSpan.FromSeconds(bytes * 10.0 / 9600);

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
        _commandLock.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Device {Device}: module {Module} loaded, but its record could not be written")]
    private static partial void LogRecordFailed(ILogger logger, Exception exception, string device, string module);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Device {Device}: upload of {Module} resumed at stream byte {Offset} failed its check ({Reason}); sending it again whole")]
    private static partial void LogUploadRestarts(ILogger logger, string device, string module, long offset, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Device {Device}: upload of {Module} interrupted ({Reason}); resuming it with XLOAD")]
    private static partial void LogUploadResumes(ILogger logger, string device, string module, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Device {Device} sent a malformed EVENT line, dropped: {Line}")]
    private static partial void LogMalformedEvent(ILogger logger, string device, string line);

    [LoggerMessage(Level = LogLevel.Information, Message = "Device {Device}: connected to {Endpoint} ({Agent})")]
    private static partial void LogConnected(ILogger logger, string device, string endpoint, string agent);
}


