using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli.Client;

/// <summary>
/// Prints a response for a person (outcome, then <c>e2e_latency_ms=</c>) or as one JSON object.
/// Everything it prints came from a device or the fleet in part: it writes through
/// <see cref="TerminalText.Guard"/>, and a field a device wrote is printed as <see cref="TerminalText.Line"/>.
/// </summary>
public sealed class ResponsePrinter
{
    private readonly TextWriter _out;
    private readonly TextWriter _err;
    private readonly bool _json;

    public ResponsePrinter(TextWriter stdout, TextWriter stderr, bool json)
    {
        _out = TerminalText.Guard(stdout);
        _err = TerminalText.Guard(stderr);
        _json = json;
    }

    /// <param name="exitOf">The exit code of a successful answer, when it is not 0 for every one (a rolled-back rollout's status).</param>
    public int Print(string command, HostResponse response, TimeSpan latency, Func<HostResponse, int>? exitOf = null)
    {
        var latencyMs = latency.TotalMilliseconds;
        var exit = response.Ok ? exitOf?.Invoke(response) ?? ExitCodes.Ok : ExitCodes.ForError(response.Error?.Code ?? "");
        if (_json)
        {
            var node = JsonNode.Parse(HostJson.Serialize(response))!.AsObject();
            node["command"] = command;
            node["e2e_latency_ms"] = Math.Round(latencyMs, 3);
            node["exit_code"] = exit;
            _out.WriteLine(node.ToJsonString());
        }
        else
        {
            if (response.Ok)
            {
                _out.WriteLine(Describe(command, response));
                if (command is "deploy" or "build-and-deploy" && !string.IsNullOrWhiteSpace(response.Message))
                {
                    // Compiler warnings, or a deploy the state file could not record: worth seeing, not failures.
                    _err.WriteLine($"warning: {response.Message.TrimEnd()}");
                }
            }
            else
            {
                if ((command == "start" && response.Job is not null && response.Status is not null) || (command is "apply" or "diff" && response.Plan is not null))
                {
                    // A job that ran but ended badly still has an outcome worth showing (value, elapsed).
                    _out.WriteLine(Describe(command, response));
                }
                WriteError("", response.Error!);
            }
            _out.WriteLine(FormattableString.Invariant($"e2e_latency_ms={latencyMs:0.000}{TimingSuffix(response.Timing)}")
                + (response.Gateway is { } via ? $" gateway={via}" : ""));
        }
        return exit;
    }

    /// <summary>
    /// An error line, then its details (clang's diagnostics). The message of a compile error is the
    /// first error line of the diagnostics: when the details carry it, the error line names only
    /// the code, so that no line is printed twice.
    /// </summary>
    private void WriteError(string prefix, HostError error)
    {
        var details = string.IsNullOrWhiteSpace(error.Details) ? null : error.Details.TrimEnd();
        var repeated = details is not null && details.Split('\n').Any(line => line.Trim() == error.Message.Trim());
        _err.WriteLine(repeated ? $"{prefix}error: {error.Code}:" : $"{prefix}error: {error.Code}: {TerminalText.Line(error.Message)}");
        if (details is not null)
        {
            _err.WriteLine(details);
        }
    }

    /// <summary>A line of progress (a rollout's wave done): the text, or with --json the object.</summary>
    public void Progress(string text, JsonObject json)
    {
        _out.WriteLine(_json ? json.ToJsonString() : text);
        _out.Flush();
    }

    /// <summary>Why a rollout's device failed, in words: the trap's text, the value the check returned, the timeout.</summary>
    public static string Cause(RolloutFailure failure) => TerminalText.Line(failure.Kind switch
    {
        "check-trap" => $"check trapped: {failure.Detail ?? "no message"}",
        "check-value" => $"check returned {failure.Value}, not 0",
        "check-timeout" => $"check timed out: {failure.Detail}",
        "soak" => $"a job ended {failure.Code} during the soak: {failure.Detail ?? "no message"}",
        _ => $"{failure.Kind}: " + (failure.Code is { } code ? $"{code}: " : "") + failure.Detail,
    } + (failure.Job is { } job ? $" (job {job})" : ""));

    private readonly Lock _many = new();

    /// <summary>
    /// One device's answer among many (a selector's): one line, naming the device, whatever the
    /// outcome (a failure on stderr); safe to call from several tasks at once.
    /// </summary>
    public int PrintOfMany(string command, HostResponse response, TimeSpan latency)
    {
        var exit = response.Ok ? ExitCodes.Ok : ExitCodes.ForError(response.Error?.Code ?? "");
        lock (_many)
        {
            if (_json)
            {
                Print(command, response, latency);
            }
            else if (response.Ok || (command == "start" && response.Job is not null && response.Status is not null))
            {
                _out.WriteLine(FormattableString.Invariant($"{Describe(command, response)}  ({latency.TotalMilliseconds:0.0} ms)") + (response.Ok ? "" : $" error: {response.Error!.Code}"));
            }
            else
            {
                _err.WriteLine($"{response.Device}: error: {response.Error!.Code}: {TerminalText.Line(response.Error.Message)}");
            }
        }
        return exit;
    }

    /// <summary>
    /// One pass of <c>run</c>/<c>watch</c> on one device: the job's outcome (or why it did not run:
    /// a compile error with clang's diagnostics, a refusal), then one line with the latency
    /// breakdown: the whole pass, the deploy (compile, transfer or "upload=skipped", verify) and the
    /// start to result (the device's part). Safe to call from several tasks at once.
    /// </summary>
    public int PrintRun(EditPass pass, string deployCommand, TimeSpan? sinceSave = null)
    {
        var outcome = pass.Outcome;
        var exit = outcome.Ok ? ExitCodes.Ok : ExitCodes.ForError(outcome.Error?.Code ?? "");
        lock (_many)
        {
            if (_json)
            {
                var node = new JsonObject
                {
                    ["command"] = "run",
                    ["device"] = pass.Device,
                    ["deploy"] = JsonNode.Parse(HostJson.Serialize(pass.Deployed)),
                    ["start"] = pass.Started is null ? null : JsonNode.Parse(HostJson.Serialize(pass.Started)),
                    ["e2e_latency_ms"] = Math.Round(pass.Total.TotalMilliseconds, 3),
                    ["exit_code"] = exit,
                };
                if (sinceSave is { } save)
                {
                    node["save_to_result_ms"] = Math.Round(save.TotalMilliseconds, 3);
                }
                _out.WriteLine(node.ToJsonString());
                return exit;
            }
            if (pass.Started is null)
            {
                WriteError($"{pass.Device}: ", pass.Deployed.Error!);
            }
            else if (outcome.Ok || outcome.Job is not null && outcome.Status is not null)
            {
                _out.WriteLine(Describe("start", outcome) + (outcome.Ok ? "" : $" error: {outcome.Error!.Code}: {TerminalText.Line(outcome.Error.Message)}"));
            }
            else
            {
                _err.WriteLine($"{pass.Device}: error: {outcome.Error!.Code}: {TerminalText.Line(outcome.Error.Message)}");
            }
            if (pass.Deployed.Ok && !string.IsNullOrWhiteSpace(pass.Deployed.Message) && deployCommand == "build-and-deploy")
            {
                _err.WriteLine($"warning: {pass.Deployed.Message.TrimEnd()}");
            }
            var line = new StringBuilder();
            line.Append(CultureInfo.InvariantCulture, $"e2e_latency_ms={pass.Total.TotalMilliseconds:0.000}");
            if (sinceSave is { } sinceSaved)
            {
                line.Append(CultureInfo.InvariantCulture, $" save_to_result_ms={sinceSaved.TotalMilliseconds:0.000}");
            }
            line.Append(CultureInfo.InvariantCulture, $" deploy_ms={pass.DeployTook.TotalMilliseconds:0.000}");
            var deployed = pass.Deployed.Timing;
            if (deployed?.CompileMs is { } compile)
            {
                line.Append(CultureInfo.InvariantCulture, $" compile_ms={compile:0.000}").Append(pass.Deployed.CacheHit == true ? " (cache hit)" : "");
            }
            if (pass.Deployed.UploadSkipped == true)
            {
                line.Append(" upload=skipped");
            }
            else if (deployed?.TransferMs is { } transfer)
            {
                line.Append(CultureInfo.InvariantCulture, $" transfer_ms={transfer:0.000}");
            }
            if (deployed?.VerifyMs is { } verify)
            {
                line.Append(CultureInfo.InvariantCulture, $" verify_ms={verify:0.000}");
            }
            if (pass.Started is not null)
            {
                line.Append(CultureInfo.InvariantCulture, $" start_ms={pass.StartTook.TotalMilliseconds:0.000}");
                if (pass.Started.Timing?.DeviceMs is { } device)
                {
                    line.Append(CultureInfo.InvariantCulture, $" device_ms={device:0.000}");
                }
            }
            _out.WriteLine(line.ToString());
        }
        return exit;
    }

    /// <summary>A run/watch job that has not returned yet: which job it is (<see cref="WaitingJob"/>).</summary>
    public void PrintWaiting(string device, string moduleId, string func, long job)
    {
        lock (_many)
        {
            _out.WriteLine(_json
                ? new JsonObject { ["event"] = "waiting", ["device"] = device, ["module_id"] = moduleId, ["func"] = func, ["job"] = job }.ToJsonString()
                : $"{device}: started job {job} ({moduleId}.{func}), waiting for its result; its log lines follow");
            _out.Flush();
        }
    }

    /// <summary>A LOG line of the job a run/watch pass waits for: as <c>logs</c> prints it, or with --json one object.</summary>
    public void PrintJobLog(LogEntry entry)
    {
        lock (_many)
        {
            _out.WriteLine(_json ? System.Text.Encoding.UTF8.GetString(HostJson.Serialize(new HostResponse { Ok = true, Event = "log", Log = entry, Device = entry.Device })) : FormatLog(entry));
            _out.Flush();
        }
    }

    /// <summary>The line after a selector's answers: how many devices, how many failed, the exit code.</summary>
    public void PrintSummary(string command, string selector, int devices, int ok, int failed, int exitCode)
    {
        lock (_many)
        {
            if (_json)
            {
                var node = new JsonObject { ["command"] = command, ["selector"] = selector, ["devices"] = devices, ["ok"] = ok, ["failed"] = failed, ["exit_code"] = exitCode };
                _out.WriteLine(node.ToJsonString());
            }
            else
            {
                _out.WriteLine($"{command} on '{selector}': {devices} device(s), {ok} ok, {failed} failed");
            }
        }
    }

    private static string Fields(IReadOnlyDictionary<string, string>? fields) =>
        string.Join(' ', (fields ?? new Dictionary<string, string>()).Select(kv => $"{TerminalText.Line(kv.Key)}={TerminalText.Line(kv.Value)}"));

    /// <summary>One published event: its text when it is printable, else its bytes in hex.</summary>
    public static string FormatEvent(ModuleEvent e) =>
        TerminalText.Line($"{e.Time} {e.Device} {e.ModuleId} job={e.Job} uptime_ms={e.UptimeMs} {e.Topic}: " + (e.Text ?? (e.Data.Length == 0 ? "(no data)" : "0x" + e.Data)));

    /// <summary>A streamed events response: the recent ones, or one new one.</summary>
    public void PrintEvents(HostResponse response) => PrintStreamed(response, response.Published, response.Events, FormatEvent);

    public static string FormatLog(LogEntry e) => TerminalText.Line($"{e.Time} {e.Device} {e.ModuleId} job={e.Job}: {e.Message}");

    /// <summary>One streamed log entry: a line of text, or one JSON object per line with --json.</summary>
    public void PrintLog(HostResponse response) => PrintStreamed(response, response.Log, response.Logs, FormatLog);

    /// <summary>
    /// A response of a followed stream (logs, events): its one new entry or the recent ones, a line
    /// each, or the response as one JSON object with --json; flushed, so a pipe sees it at once.
    /// </summary>
    private void PrintStreamed<T>(HostResponse response, T? one, List<T>? recent, Func<T, string> format)
        where T : class
    {
        if (_json)
        {
            _out.WriteLine(System.Text.Encoding.UTF8.GetString(HostJson.Serialize(response)));
        }
        else
        {
            foreach (var entry in one is not null ? [one] : recent ?? [])
            {
                _out.WriteLine(format(entry));
            }
        }
        _out.Flush();
    }

    private static string TimingSuffix(Timing? timing)
    {
        if (timing is null)
        {
            return string.Empty;
        }
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $" gateway_ms={timing.GatewayMs:0.000}");
        if (timing.CompileMs is { } compile)
        {
            text.Append(CultureInfo.InvariantCulture, $" compile_ms={compile:0.000}");
        }
        if (timing.TransferMs is { } transfer)
        {
            text.Append(CultureInfo.InvariantCulture, $" transfer_ms={transfer:0.000}");
        }
        if (timing.VerifyMs is { } verify)
        {
            text.Append(CultureInfo.InvariantCulture, $" verify_ms={verify:0.000}");
        }
        if (timing.DeviceMs is { } device)
        {
            text.Append(CultureInfo.InvariantCulture, $" device_ms={device:0.000}");
        }
        return text.ToString();
    }

    private static readonly string[] PlanStates = ["missing", "different", "same", "extra", "unreachable"];

    /// <summary>One line per device and module (what it needs, and what came of it), then a count of each.</summary>
    private static string DescribePlan(List<PlanStep> plan) => string.Join(Environment.NewLine, plan.Select(p =>
            $"{p.Device,-16} {p.ModuleId,-16} {p.State}"
            + (p.HeldVersion is { } held ? $" (version {held} there)" : "")
            + (p.DesiredVersion is { } wanted && p.State != "extra" ? $" -> version {wanted}" : "")
            + (p.Outcome is { } outcome ? $": {outcome}" : "")
            + (p.Error is { } e ? $" {e.Code}: {TerminalText.Line(e.Message)}" : ""))
        .Append($"{plan.Select(p => p.Device).Distinct().Count()} device(s): " + string.Join(", ",
            PlanStates.Select(s => $"{plan.Count(p => p.State == s)} {s}"))
            + (plan.Any(p => p.Outcome is not null) ? $"; {plan.Count(p => p.Outcome is "deployed" or "started")} deployed, " +
                (plan.Count(p => p.Outcome == "unloaded") is > 0 and var unloaded ? $"{unloaded} unloaded, " : "") + $"{plan.Count(p => p.Outcome == "failed")} failed" : "")));

    private static string DescribeDevice(DeviceInfo d)
    {
        var line = $"{d.Name,-16} {d.Endpoint,-40} {(d.GatewayLost == true ? "gateway-lost" : d.Connected ? "connected" : "not connected")}" + (d.Gateway is { } gateway ? $"  gateway={gateway}" : "")
            + (d.Labels is { Count: > 0 } labels ? "  labels=" + string.Join(',', labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")) : "");
        foreach (var m in d.Modules ?? [])
        {
            line += Environment.NewLine + $"  {m.ModuleId,-20} crc32={m.Crc32} sha256={m.Sha256 ?? "(not deployed by this gateway)"}"
                + (m.Size is { } size ? $" size={size}" : "") + (m.DeployedAt is { } at ? $" deployed={at}" : "");
        }
        return line;
    }

    private static string Describe(string command, HostResponse r) => command switch
    {
        "status" => $"{r.Device}: {Fields(r.Agent)}{Environment.NewLine}agent: {(r.Capabilities is null or { Count: 0 } || r.Capabilities.ContainsKey("baseline") ? "seed baseline (no HELLO)" : Fields(r.Capabilities))}",
        "scan" => r.Ports is null or { Count: 0 }
            ? "no serial ports found (ttyACM*, ttyUSB*)"
            : string.Join(Environment.NewLine, r.Ports.Select(p => $"{p.Path,-14} {p.UsbId ?? "-",-10} {p.Serial ?? "-",-26} {p.Product ?? ""}  endpoint = \"{p.Endpoint}\"")),
        "ping" => $"{r.Device}: alive {Fields(r.Agent)}",
        "unload" => $"{r.Device}: unloaded {r.ModuleId}",
        "logs" => string.Join(Environment.NewLine, (r.Logs ?? []).Select(FormatLog)),
        "events" => r.Events is null or { Count: 0 } ? "no events" : string.Join(Environment.NewLine, r.Events.Select(FormatEvent)),
        "sim" => $"{r.Device}: {Fields(r.Agent)}",
        "start" when r.Status == "RUNNING" => $"{r.Device}: started {r.ModuleId}.{r.Func} job={r.Job}",
        "start" => $"{r.Device}: {r.ModuleId}.{r.Func} job={r.Job} status={r.Status}"
            + (r.Value is { } v ? $" value={v.GetRawText().Trim('"')}" + (r.ValueType is null ? "" : $" ({r.ValueType})") : "")
            + (r.ElapsedUs is { } us ? $" elapsed_us={us}" : ""),
        "stop" => $"{r.Device}: stop {r.ModuleId}: status={r.Status}" + (r.Job is { } job ? $" job={job}" : ""),
        "deploy" or "build-and-deploy" => $"{r.Device}: deployed {r.ModuleId} size={r.Size} crc32={r.Crc32}"
            + (r.Artifact is { } a and not "file" ? $" artifact={a}" : "")
            + (r.CacheHit == true ? " (cache hit: nothing compiled)" : "")
            + (r.UploadSkipped == true ? " (upload skipped: the device already holds it; --force uploads)" : "")
            + (r.Version is { } version ? $" version={version}" : ""),
        "devices" => string.Join(Environment.NewLine, (r.Devices ?? []).Select(DescribeDevice)),
        "rollback" => $"{r.Device}: {r.ModuleId} is version {r.Version} again" + (r.Message is { } from ? $" ({from})" : "") + $" size={r.Size} crc32={r.Crc32}"
            + (r.UploadSkipped == true ? " (upload skipped: the device already holds it)" : ""),
        "history" => r.Versions is null or { Count: 0 }
            ? $"no versions of {r.ModuleId} recorded"
            : string.Join(Environment.NewLine, r.Versions.Select(v =>
                $"{v.ModuleId} version {v.Version,-3} {v.CreatedAt} sha256={v.Sha256[..12]} crc32={v.Crc32} size={v.Size} {v.Artifact}"
                + (v.SignatureVerified ? " signed" : "") + (v.By is null ? "" : $" by {v.By}")
                + (v.Devices is { Count: > 0 } held ? $"  on: {string.Join(',', held)}" : ""))),
        "diff" when r.Message is { } nothingDesired && r.Plan is not { Count: > 0 } => TerminalText.Line(nothingDesired),
        "apply" or "diff" => DescribePlan(r.Plan ?? []),
        "rollout" when r.Rollout is { } o => string.Join(Environment.NewLine, new[]
            {
                $"rollout {o.Id} of {o.ModuleId}" + (o.Version is { } v ? $" version {v}" : "") + $" on '{o.Selector}': {o.State}, wave {o.Wave} of {o.Waves}, {o.Failures} failed (at most {o.MaxFailures})"
                + (o.Reason is { } reason ? $": {TerminalText.Line(reason)}" : ""),
            }.Concat(o.Devices.Select(d => $"  {d.Device,-16} wave {d.Wave} {d.Outcome}" + (d.Message is { } m ? $" ({TerminalText.Line(m)})" : "")
                + (d.Failure is { } f ? $"{Environment.NewLine}    cause: {Cause(f)}" : "")))),
        "jobs" => r.Jobs is null or { Count: 0 }
            ? "no jobs recorded"
            : string.Join(Environment.NewLine, r.Jobs.Select(j =>
                $"{j.StartedAt} {j.Device,-12} job={j.Job,-5} {j.ModuleId}.{j.Func}({TerminalText.Line(j.Args)}) {j.Status}"
                + (j.Value is null ? "" : $" value={j.Value}")
                + (j.ElapsedUs is { } us ? $" elapsed_us={us}" : "")
                + (j.Message is null ? "" : $" \"{TerminalText.Line(j.Message)}\"")
                + (j.Gateway is null ? "" : $" gateway={j.Gateway}"))),
        _ => "ok",
    };
}
