using System.Text;
using Wasmorch.Protocol.Agent;

namespace Wasmorch.Conformance;

/// <summary>A case failed: the message names the rule of docs/protocol.md that the agent broke.</summary>
/// <summary>A case found, once it asked the agent, that it does not apply (a capability the agent does not offer): reported SKIP.</summary>
public sealed class CaseSkippedException : Exception
{
    public CaseSkippedException(string message)
        : base(message)
    {
    }

    public CaseSkippedException()
    {
    }

    public CaseSkippedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

public sealed class ViolationException : Exception
{
    public ViolationException(string message)
        : base(message)
    {
    }

    public ViolationException()
    {
    }

    public ViolationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The suite's side of the link: raw lines and bytes with a deadline on every read. LOG lines are
/// asynchronous by the spec, so they are collected aside rather than taken as replies.
/// </summary>
public sealed class AgentProbe : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[4096];
    private readonly List<byte> _pending = [];

    public AgentProbe(Stream stream) => _stream = stream;

    public static TimeSpan ReplyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public List<AgentLine> Logs { get; } = [];

    /// <summary>EVENT lines (§6c), asynchronous like LOG: kept here, never taken for a reply.</summary>
    public List<AgentLine> Events { get; } = [];

    /// <summary>Jobs the agent acknowledged with START_OK and whose RESULT has not come yet: job → module id.</summary>
    private readonly Dictionary<string, string> _startedJobs = [];

    /// <summary>RESULT lines of started jobs that came while something else was awaited.</summary>
    private readonly List<AgentLine> _results = [];

    /// <summary>The RESULT of <paramref name="job"/> if it already arrived out of band.</summary>
    public AgentLine? TakeResult(string job)
    {
        var index = _results.FindIndex(r => r[AgentKeys.Job] == job);
        if (index < 0)
        {
            return null;
        }
        var result = _results[index];
        _results.RemoveAt(index);
        return result;
    }

    public Task SendLineAsync(string line, CancellationToken ct) => SendRawAsync(Encoding.ASCII.GetBytes(line + "\n"), ct);

    /// <summary>Sends bytes; a link the agent closed or reset is a violation of the case, never a crash of the suite.</summary>
    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        try
        {
            await _stream.WriteAsync(bytes, ct);
            await _stream.FlushAsync(ct);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            throw new ViolationException($"the agent closed or reset the link while the suite was sending ({ex.Message})");
        }
    }

    /// <summary>The next line that is not LOG, parsed; a violation if none comes or it does not parse.</summary>
    public async Task<AgentLine> ReadAsync(string expecting, CancellationToken ct, TimeSpan? timeout = null)
    {
        while (true)
        {
            // The line as bytes: what the agent sent is judged, not a decoding of it.
            var bytes = await ReadLineBytesAsync(expecting, timeout ?? ReplyTimeout, ct);
            if (!AgentLineParser.TryParse(bytes, out var line, out var error))
            {
                if (error.Kind == LineParseErrorKind.Empty)
                {
                    continue;
                }
                throw new ViolationException($"§2 lines: agent sent an unparseable line while {expecting} ({error}): '{Printable(bytes)}'");
            }
            if (line!.Verb == AgentVerbs.Log)
            {
                Logs.Add(line);
                continue;
            }
            if (line.Verb == AgentVerbs.Event)
            {
                Events.Add(line);
                continue;
            }
            if (line.Verb == AgentVerbs.Boot)
            {
                // §6: an agent announces a (re)start; it answers nothing.
                continue;
            }
            if (line.Verb == AgentVerbs.StartOk && line[AgentKeys.Job] is { } started)
            {
                _startedJobs[started] = line[AgentKeys.ModuleId] ?? string.Empty;
            }
            // §3: RESULT lines of running jobs may come between a command and its reply.
            if (line.Verb == AgentVerbs.Result && line[AgentKeys.Job] is { } job && _startedJobs.Remove(job) && !expecting.Contains($"RESULT of job {job} ", StringComparison.Ordinal))
            {
                _results.Add(line);
                continue;
            }
            return line;
        }
    }

    public async Task<AgentLine> RequestAsync(string command, CancellationToken ct, TimeSpan? timeout = null)
    {
        await SendLineAsync(command, ct);
        return await ReadAsync($"waiting for the reply to '{Shorten(command)}'", ct, timeout);
    }

    /// <summary>
    /// Ends every job a case left running: STOP, then its RESULT (within <paramref name="deadline"/>),
    /// so that the next case finds an idle runner whatever this one did.
    /// </summary>
    public async Task SettleJobsAsync(TimeSpan deadline, CancellationToken ct)
    {
        foreach (var (job, module) in _startedJobs.ToList())
        {
            var stop = await RequestAsync($"STOP module_id={module}", ct);
            if (stop.Verb == AgentVerbs.StopOk && stop[AgentKeys.Status] == "PENDING" && _startedJobs.ContainsKey(job))
            {
                var result = TakeResult(job) ?? await ReadAsync($"waiting for the RESULT of job {job} after the suite stopped it", ct, deadline);
                if (result.Verb != AgentVerbs.Result || result[AgentKeys.Job] != job)
                {
                    throw new ViolationException($"§3 STOP: expected the RESULT of stopped job {job}; got '{result}'");
                }
            }
            // STOP_OK status=IDLE or ERR NO_MODULE: the job is over, its RESULT lost or never sent.
            _startedJobs.Remove(job);
        }
        _results.Clear();
    }

    private static string Printable(byte[] bytes) =>
        string.Concat(bytes.Select(b => b is >= 0x20 and <= 0x7E ? ((char)b).ToString() : $"\\x{b:x2}"));

    /// <summary>One line as sent (without LF), checked against §2's byte rules before anyone decodes it.</summary>
    private async Task<byte[]> ReadLineBytesAsync(string expecting, TimeSpan timeout, CancellationToken ct)
    {
        var bytes = await ReadRawLineAsync(expecting, timeout, ct);
        var content = bytes.Length > 0 && bytes[^1] == (byte)'\r' ? bytes.AsSpan(0, bytes.Length - 1) : bytes;
        for (var i = 0; i < content.Length; i++)
        {
            if (content[i] is (< 0x20 and not (byte)'\t') or > 0x7E)
            {
                throw new ViolationException($"§2 lines: byte 0x{content[i]:x2} at offset {i} is not printable ASCII, while {expecting}: '{Printable(bytes)}'");
            }
        }
        return bytes;
    }

    private async Task<byte[]> ReadRawLineAsync(string expecting, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        while (true)
        {
            var newline = _pending.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var bytes = _pending.GetRange(0, newline).ToArray();
                _pending.RemoveRange(0, newline + 1);
                if (bytes.Length + 1 > ProtocolLimits.MaxLineLength)
                {
                    throw new ViolationException($"§2 lines: agent sent a line of {bytes.Length + 1} bytes (limit {ProtocolLimits.MaxLineLength}) while {expecting}");
                }
                return bytes;
            }
            if (_pending.Count > 64 * 1024)
            {
                throw new ViolationException($"§2 lines: agent sent {_pending.Count} bytes without a line end while {expecting}");
            }
            int read;
            try
            {
                read = await _stream.ReadAsync(_buffer, deadline.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new ViolationException($"no reply within {timeout.TotalMilliseconds:0} ms while {expecting}");
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                throw new ViolationException($"the agent reset the link while {expecting} ({ex.Message})");
            }
            if (read == 0)
            {
                throw new ViolationException($"agent closed the link while {expecting}");
            }
            _pending.AddRange(_buffer.AsSpan(0, read).ToArray());
        }
    }

    /// <summary>Brings the link back to a known state after a case: STATUS until a STATUS reply arrives.</summary>
    public async Task<bool> ResyncAsync(CancellationToken ct)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                await SendLineAsync(AgentVerbs.Status, ct);
                while (true)
                {
                    var line = await ReadAsync("resynchronising", ct, TimeSpan.FromSeconds(3));
                    if (line.Verb == AgentVerbs.Status)
                    {
                        _pending.Clear();
                        return true;
                    }
                }
            }
            catch (ViolationException)
            {
                // Try again: the agent may still have been inside a payload or a stalled LOAD.
            }
        }
        return false;
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";

    public async ValueTask DisposeAsync() => await _stream.DisposeAsync();
}
