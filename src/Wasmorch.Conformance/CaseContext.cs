using Wasmorch.Protocol.Agent;

namespace Wasmorch.Conformance;

/// <summary>What a case gets: the probe, the agent's HELLO (if any), and assertion helpers that name rules.</summary>
public sealed class CaseContext
{
    public CaseContext(AgentProbe probe, AgentCapabilities capabilities, CancellationToken ct)
    {
        Probe = probe;
        Capabilities = capabilities;
        Ct = ct;
    }

    public AgentProbe Probe { get; }

    public AgentCapabilities Capabilities { get; }

    /// <summary>The agent's link key, when it offers AUTH and the user gave it.</summary>
    public byte[]? LinkKey { get; init; }

    public CancellationToken Ct { get; }

    /// <summary>A STOP must end a cooperative job within this; a spinning one within grace + this.</summary>
    public static TimeSpan StopDeadline { get; } = TimeSpan.FromSeconds(5);

    public Task<AgentLine> RequestAsync(string command, TimeSpan? timeout = null) => Probe.RequestAsync(command, Ct, timeout);

    public Task<AgentLine> ReadAsync(string expecting, TimeSpan? timeout = null) => Probe.ReadAsync(expecting, Ct, timeout);

    public static void Expect(bool condition, string rule, string message, AgentLine? got = null)
    {
        if (!condition)
        {
            throw new ViolationException($"{rule}: {message}{(got is null ? "" : $"; got '{got}'")}");
        }
    }

    public static void ExpectVerb(AgentLine line, string verb, string rule, string? code = null, string codeKey = "code")
    {
        Expect(line.Verb == verb, rule, $"expected {verb}{(code is null ? "" : $" {codeKey}={code}")}", line);
        if (code is not null)
        {
            Expect(line[codeKey] == code, rule, $"expected {verb} with {codeKey}={code}", line);
        }
    }

    public static void ExpectField(AgentLine line, string key, string expected, string rule) =>
        Expect(line[key] == expected, rule, $"expected {key}={expected}", line);

    /// <summary>The whole LOAD exchange; returns the final line (LOAD_OK/LOAD_ERR) or the ERR refusal.</summary>
    public async Task<AgentLine> LoadAsync(string id, byte[] module, uint? crc = null)
    {
        var ready = await RequestAsync($"LOAD module_id={id} size={module.Length} crc32={Crc32Hex.Format(crc ?? Crc32Hex.Compute(module))}");
        if (ready.Verb != AgentVerbs.LoadReady)
        {
            return ready;
        }
        ExpectField(ready, AgentKeys.ModuleId, id, "§3 LOAD");
        await Probe.SendRawAsync(module, Ct);
        return await ReadAsync("waiting for LOAD_OK/LOAD_ERR after the payload");
    }

    public async Task LoadOkAsync(string id, byte[] module)
    {
        var done = await LoadAsync(id, module);
        ExpectVerb(done, AgentVerbs.LoadOk, "§3 LOAD: a valid module with the right CRC is accepted");
    }

    /// <summary>START that must be accepted; returns the job number.</summary>
    public async Task<string> StartOkAsync(string id, string func, string? args = null)
    {
        var started = await RequestAsync($"START module_id={id} func={func}{(args is null ? "" : $" args=\"{args}\"")}");
        ExpectVerb(started, AgentVerbs.StartOk, $"§3 START of {id}.{func}");
        Expect(started.TryGetInt64(AgentKeys.Job, out _), "§3 START", "START_OK must carry job=<n>", started);
        return started[AgentKeys.Job]!;
    }

    /// <summary>Reads the RESULT of <paramref name="job"/>, skipping nothing else: any other line is a violation.</summary>
    public async Task<AgentLine> ResultAsync(string job, TimeSpan? timeout = null)
    {
        var result = Probe.TakeResult(job)
            ?? await ReadAsync($"waiting for the RESULT of job {job} (§3 START: a job ends with exactly one RESULT)", timeout);
        ExpectVerb(result, AgentVerbs.Result, "§3 START: a job ends with exactly one RESULT");
        ExpectField(result, AgentKeys.Job, job, "§3 START: RESULT names its job");
        Expect(result.TryGetInt64(AgentKeys.ElapsedUs, out _), "§3 START", "RESULT of a job carries elapsed_us", result);
        return result;
    }

    public async Task<AgentLine> RunAsync(string id, string func, string? args = null) =>
        await ResultAsync(await StartOkAsync(id, func, args));
}
