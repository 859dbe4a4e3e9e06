using System.Diagnostics;
using System.Text.Json;
using Wasmorch.Gateway.Build;
using Wasmorch.Gateway.Config;
using Wasmorch.Gateway.Devices;
using Wasmorch.Gateway.State;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Transport;

namespace Wasmorch.Gateway.Api;

/// <summary>Carries out one host request against the device registry and the compiler.</summary>
public sealed class RequestHandler
{
    private readonly DeviceRegistry _devices;
    private readonly BuildService _build;
    private readonly GatewayConfig _config;

    private readonly Signing.ModuleSignatures _signatures;

    public RequestHandler(DeviceRegistry devices, BuildService build, GatewayConfig config, Signing.ModuleSignatures? signatures = null)
    {
        _devices = devices;
        _build = build;
        _signatures = signatures ?? new Signing.ModuleSignatures([]);
        _config = config;
    }

    public async Task<HostResponse> HandleAsync(HostRequest request, CancellationToken ct, Func<HostResponse, Task>? emit = null)
    {
        var events = request.Progress ? emit : null;
        var clock = Stopwatch.StartNew();
        var timing = new Timing();
        HostResponse response;
        try
        {
            response = request.Op switch
            {
                HostOps.Status => await StatusAsync(request, timing, ct),
                HostOps.Start => await StartAsync(request, timing, ct),
                HostOps.Stop => await StopAsync(request, timing, ct),
                HostOps.Deploy => await DeployAsync(request, await DecodeModuleAsync(request, timing, ct), timing, events, ct),
                HostOps.BuildAndDeploy => await BuildAndDeployAsync(request, timing, events, ct),
                HostOps.Devices => new HostResponse { Ok = true, Devices = _devices.Describe() },
                HostOps.Ping => await PingAsync(request, timing, ct),
                HostOps.Unload => await UnloadAsync(request, timing, ct),
                HostOps.Logs => Logs(request),
                HostOps.Scan => Scan(),
                HostOps.Jobs => Jobs(request),
                null => throw new GatewayException(HostErrorCodes.BadRequest, "the request has no op"),
                _ => throw new GatewayException(HostErrorCodes.BadRequest,
                    $"unknown op '{request.Op}' (ops: status, start, stop, deploy, build_and_deploy, devices, ping, unload, logs, scan, jobs)"),
            };
        }
        catch (GatewayException ex)
        {
            response = Failure(ex.Code, ex.Message, ex.Details);
        }
        response.Id = request.Id;
        response.Device ??= request.Device;
        timing.GatewayMs = clock.Elapsed.TotalMilliseconds;
        response.Timing = timing;
        return response;
    }

    public static HostResponse Failure(string code, string message, string? details = null) =>
        new() { Ok = false, Error = new HostError { Code = code, Message = message, Details = details } };

    private async Task<HostResponse> StatusAsync(HostRequest request, Timing timing, CancellationToken ct)
    {
        var session = _devices.Get(request.Device);
        var line = await TimedAsync(() => session.StatusAsync(ct), timing);
        if (line.Verb != AgentVerbs.Status)
        {
            return FromAgentError(line);
        }
        Reconcile(session, line);
        return new HostResponse
        {
            Ok = true,
            Status = line[AgentKeys.State],
            ModuleId = Dash(line[AgentKeys.Module]),
            Func = Dash(line[AgentKeys.Func]),
            Job = line.TryGetInt64(AgentKeys.Job, out var job) ? job : null,
            Agent = Fields(line),
            Capabilities = session.Capabilities is { } capabilities ? new Dictionary<string, string>(capabilities.Fields) : null,
        };
    }

    private async Task<HostResponse> PingAsync(HostRequest request, Timing timing, CancellationToken ct)
    {
        var session = _devices.Get(request.Device);
        var line = await TimedAsync(() => session.PingAsync(ct), timing);
        return line.Verb == AgentVerbs.Err
            ? FromAgentError(line)
            : new HostResponse { Ok = true, Status = "ALIVE", Agent = Fields(line) };
    }

    private async Task<HostResponse> UnloadAsync(HostRequest request, Timing timing, CancellationToken ct)
    {
        var session = _devices.Get(request.Device);
        var moduleId = RequireModuleId(request);
        var line = await TimedAsync(() => session.UnloadAsync(moduleId, ct), timing);
        if (line.Verb != AgentVerbs.UnloadOk)
        {
            return FromAgentError(line);
        }
        _devices.State?.RecordUnloaded(session.Name, moduleId);
        return new HostResponse { Ok = true, ModuleId = moduleId, Status = "UNLOADED" };
    }

    private static HostResponse Scan() => new()
    {
        Ok = true,
        Ports = [.. SerialPortScanner.Scan().Select(c => new SerialPortInfo
        {
            Path = c.Path,
            UsbId = c.UsbId,
            Serial = c.Serial,
            Manufacturer = c.Manufacturer,
            Product = c.Product,
            ById = c.ById,
            Endpoint = c.UsbId is null
                ? $"serial://{c.ById ?? c.Path}?baud=115200"
                : $"serial://usb/{c.UsbId}?{(c.Serial is null ? "" : $"serial={c.Serial}&")}baud=115200",
        })],
    };

    private HostResponse Logs(HostRequest request)
    {
        RequireKnownIfNamed(request);
        return new HostResponse { Ok = true, Logs = _devices.Logs.Recent(request.Device) };
    }

    /// <summary>
    /// <c>logs</c> with <c>follow</c>: the recent entries, then every new one as an event line, until
    /// the host goes away (<paramref name="ct"/>).
    /// </summary>
    public async Task FollowLogsAsync(HostRequest request, Func<HostResponse, Task> emit, CancellationToken ct)
    {
        HostResponse first;
        try
        {
            first = Logs(request);
        }
        catch (GatewayException ex)
        {
            first = Failure(ex.Code, ex.Message, ex.Details);
        }
        first.Id = request.Id;
        first.Event = "logs";
        await emit(first);
        if (!first.Ok)
        {
            return;
        }
        await foreach (var entry in _devices.Logs.FollowAsync(request.Device, ct))
        {
            await emit(new HostResponse { Id = request.Id, Ok = true, Event = "log", Log = entry, Device = entry.Device });
        }
    }

    private async Task<HostResponse> StartAsync(HostRequest request, Timing timing, CancellationToken ct)
    {
        var session = _devices.Get(request.Device);
        var moduleId = RequireModuleId(request);
        if (request.Func is null || !ModuleId.IsValidFunctionName(request.Func))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, "start needs func, a C identifier");
        }
        if (!FuncArgs.TryParse(request.Args, out _, out var argsError))
        {
            throw new GatewayException(AgentErrorCodes.BadArgs, $"args \"{request.Args}\": {argsError}");
        }
        var started = await TimedAsync(() => session.StartAsync(moduleId, request.Func, request.Args, ct), timing);
        var line = started.Line;
        if (line.Verb == AgentVerbs.Err)
        {
            return FromAgentError(line);
        }
        if (line.Verb == AgentVerbs.Result)
        {
            return Failure(line[AgentKeys.Status] ?? HostErrorCodes.ProtocolError, line[AgentKeys.Msg] ?? "the device refused START");
        }
        if (!line.TryGetInt64(AgentKeys.Job, out var job))
        {
            throw new GatewayException(HostErrorCodes.ProtocolError, $"START_OK without job=: {line}");
        }
        var response = new HostResponse { Ok = true, ModuleId = moduleId, Func = request.Func, Job = job, Status = "RUNNING" };
        if (!request.WaitResult)
        {
            return response;
        }
        var timeout = request.TimeoutMs is > 0 ? TimeSpan.FromMilliseconds(request.TimeoutMs.Value) : _config.DefaultResultTimeout;
        var result = await DeviceSession.WaitForResultAsync(started, job, timeout, ct);
        return FromResult(result, response, timing);
    }

    private static HostResponse FromResult(AgentLine result, HostResponse response, Timing timing)
    {
        response.Status = result[AgentKeys.Status];
        response.Message = result[AgentKeys.Msg];
        response.ValueType = result[AgentKeys.Type];
        if (result[AgentKeys.Value] is { } value)
        {
            response.Value = ToJsonValue(value);
        }
        if (result.TryGetInt64(AgentKeys.ElapsedUs, out var elapsed))
        {
            response.ElapsedUs = elapsed;
            timing.DeviceMs = elapsed / 1000.0;
        }
        if (response.Status != JobStatus.Ok)
        {
            response.Ok = false;
            response.Error = new HostError
            {
                Code = response.Status ?? HostErrorCodes.ProtocolError,
                Message = $"job {response.Job} ended {response.Status}: {response.Message ?? "no message"}",
            };
        }
        return response;
    }

    private async Task<HostResponse> StopAsync(HostRequest request, Timing timing, CancellationToken ct)
    {
        var session = _devices.Get(request.Device);
        var moduleId = RequireModuleId(request);
        var line = await TimedAsync(() => session.StopAsync(moduleId, ct), timing);
        if (line.Verb != AgentVerbs.StopOk)
        {
            return FromAgentError(line);
        }
        return new HostResponse
        {
            Ok = true,
            ModuleId = moduleId,
            Status = line[AgentKeys.Status],
            Job = line.TryGetInt64(AgentKeys.Job, out var job) ? job : null,
        };
    }

    private async Task<HostResponse> BuildAndDeployAsync(HostRequest request, Timing timing, Func<HostResponse, Task>? events, CancellationToken ct)
    {
        var moduleId = RequireModuleId(request);
        var session = _devices.Get(request.Device);
        if (string.IsNullOrEmpty(request.Source))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, "build_and_deploy needs source (the C text)");
        }
        if (request.Source.Length > _config.MaxSourceBytes)
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"source of {request.Source.Length} bytes exceeds the gateway's {_config.MaxSourceBytes}");
        }
        var options = BuildOptions.From(request);
        var verified = _signatures.Check(System.Text.Encoding.UTF8.GetBytes(request.Source), request.Signature, _config.RequireSigned.Contains(session.Name), session.Name);
        var target = await ResolveTargetAsync(session, request.Mode, ct);
        var compiled = await _build.CompileAsync(request.Source, request.SourceName ?? moduleId + ".c", options, ct);
        ModuleValidator.Check(compiled.Artifact, session.Capabilities, session.Name);
        var artifact = compiled;
        if (target is not null)
        {
            var aot = await _build.PrecompileAsync(compiled.Artifact, target, ct);
            artifact = aot with { CacheHit = compiled.CacheHit && aot.CacheHit, Elapsed = compiled.Elapsed + aot.Elapsed };
        }
        timing.CompileMs = artifact.Elapsed.TotalMilliseconds;
        var response = await DeployAsync(request, artifact.Artifact, timing, events, ct);
        response.CacheHit = artifact.CacheHit;
        response.SignatureVerified = verified;
        response.Artifact = target is null ? "wasm" : $"aot:{target.Name}";
        if (response.Ok && compiled.Diagnostics.Length > 0)
        {
            response.Message = compiled.Diagnostics.Trim();
        }
        return response;
    }

    /// <summary>null for wasm; the device's AOT target for aot, or why it has none.</summary>
    private static async Task<AotTarget?> ResolveTargetAsync(DeviceSession session, string? mode, CancellationToken ct)
    {
        if (mode is null or "wasm")
        {
            return null;
        }
        if (mode != "aot")
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"unknown mode '{mode}' (wasm or aot)");
        }
        var device = await session.CapabilitiesAsync(ct);
        if (!device.Modes.Contains("aot") || device.AotTarget is null || device.Runtime is null)
        {
            throw new GatewayException(HostErrorCodes.Unsupported, device.IsBaseline
                ? $"--mode aot needs to know the device's AOT target, and '{session.Name}' is a seed-baseline agent (no HELLO); use --mode wasm"
                : $"device '{session.Name}' ({device.Agent}) does not run AOT modules (modes={string.Join(',', device.Modes)}); use --mode wasm");
        }
        var runtime = device.Runtime.Split('/')[0];
        return new AotTarget(runtime, device.AotTarget);
    }

    private async Task<byte[]> DecodeModuleAsync(HostRequest request, Timing timing, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(request.Module))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, "deploy needs module (base64 bytes)");
        }
        if (request.Module.Length / 4 * 3 > _config.MaxModuleBytes + 3)
        {
            throw new GatewayException(AgentErrorCodes.TooLarge, $"module exceeds the gateway's {_config.MaxModuleBytes} bytes");
        }
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(request.Module);
        }
        catch (FormatException)
        {
            throw new GatewayException(HostErrorCodes.BadRequest, "module is not valid base64");
        }
        var session = _devices.Get(request.Device);
        _signatures.Check(bytes, request.Signature, _config.RequireSigned.Contains(session.Name), session.Name);
        var target = await ResolveTargetAsync(session, request.Mode, ct);
        if (bytes.AsSpan().StartsWith("\0asm"u8))
        {
            ModuleValidator.Check(bytes, session.Capabilities, session.Name);
            if (target is not null)
            {
                // A .wasm file deployed with --mode aot is compiled here for the device.
                var aot = await _build.PrecompileAsync(bytes, target, ct);
                timing.CompileMs = aot.Elapsed.TotalMilliseconds;
                return aot.Artifact;
            }
        }
        return bytes;
    }

    private async Task<HostResponse> DeployAsync(HostRequest request, byte[] module, Timing timing, Func<HostResponse, Task>? events, CancellationToken ct)
    {
        var session = _devices.Get(request.Device);
        var moduleId = RequireModuleId(request);
        if (module.Length == 0 || module.Length > _config.MaxModuleBytes)
        {
            throw new GatewayException(AgentErrorCodes.TooLarge, $"module of {module.Length} bytes; the gateway takes 1 to {_config.MaxModuleBytes}");
        }
        var device = await session.CapabilitiesAsync(ct);
        if (device.MaxModule is { } deviceMax && module.Length > deviceMax)
        {
            throw new GatewayException(AgentErrorCodes.TooLarge, $"module of {module.Length} bytes exceeds device '{session.Name}''s max_module of {deviceMax}");
        }
        var crc = Crc32Hex.Format(Crc32Hex.Compute(module));
        var clock = Stopwatch.StartNew();
        if (!request.Force && await HoldsAsync(session, moduleId, crc, ct))
        {
            timing.DeviceMs = clock.Elapsed.TotalMilliseconds;
            var held = new HostResponse
            {
                Ok = true, ModuleId = moduleId, Size = module.Length, Crc32 = crc, Status = "LOADED", UploadSkipped = true,
                Sha256 = BuildService.Sha256(module), Artifact = "file",
            };
            // Fills in the SHA-256 that the device's STATUS cannot tell; not awaited: nothing new was deployed.
            _ = _devices.State?.RecordDeployedAsync(session.Name, HeldFrom(held, request));
            return held;
        }
        var reply = await session.LoadAsync(moduleId, module, ct, events is null ? null : UploadProgressFor(request, module.Length, events));
        timing.DeviceMs = clock.Elapsed.TotalMilliseconds;
        timing.TransferMs = reply.Transfer.TotalMilliseconds;
        var line = reply.Line;
        if (line.TryGetInt64(AgentKeys.VerifyUs, out var verifyUs))
        {
            timing.VerifyMs = verifyUs / 1000.0;
            timing.TransferMs = Math.Max(0, timing.TransferMs.Value - timing.VerifyMs.Value);
        }
        if (line.Verb != AgentVerbs.LoadOk)
        {
            return FromAgentError(line);
        }
        var response = new HostResponse
        {
            Ok = true,
            ModuleId = moduleId,
            Size = line.TryGetInt64(AgentKeys.Size, out var size) ? size : module.Length,
            Crc32 = line[AgentKeys.Crc32] ?? crc,
            Status = "LOADED",
            UploadSkipped = false,
            Sha256 = BuildService.Sha256(module),
            Artifact = "file",
        };
        if (_devices.State is { } state)
        {
            // Answered only once it is on disk: a gateway killed right after still knows what it deployed.
            await state.RecordDeployedAsync(session.Name, HeldFrom(response, request));
        }
        return response;
    }

    private static HeldModule HeldFrom(HostResponse deployed, HostRequest request) => new()
    {
        ModuleId = deployed.ModuleId!,
        Crc32 = deployed.Crc32!,
        Sha256 = deployed.Sha256,
        Size = deployed.Size,
        Artifact = request.Op == HostOps.BuildAndDeploy ? $"built:{request.Mode ?? "wasm"}" : $"file:{request.Mode ?? "as-is"}",
    };

    /// <summary>True when STATUS says the device holds <paramref name="moduleId"/> with this CRC (agents that report module_crcs).</summary>
    private async Task<bool> HoldsAsync(DeviceSession session, string moduleId, string crc, CancellationToken ct)
    {
        var status = await session.StatusAsync(ct);
        if (status.Verb != AgentVerbs.Status)
        {
            return false;
        }
        Reconcile(session, status);
        return (status[AgentKeys.ModuleCrcs] ?? string.Empty).Split(',').Contains($"{moduleId}:{crc}", StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The device is the truth for what it holds: its STATUS corrects the gateway's record.</summary>
    private void Reconcile(DeviceSession session, AgentLine status)
    {
        if (status[AgentKeys.Modules] is { } modules)
        {
            _devices.State?.ReconcileHoldings(session.Name, modules, status[AgentKeys.ModuleCrcs]);
        }
    }

    private HostResponse Jobs(HostRequest request)
    {
        RequireKnownIfNamed(request);
        if (_devices.State is not { } state)
        {
            throw new GatewayException(HostErrorCodes.Unsupported, "this gateway runs without a state file, so it keeps no job history");
        }
        return new HostResponse { Ok = true, Jobs = state.Jobs(request.Device, request.Limit ?? 20) };
    }

    /// <summary>Progress events for the host, at most every 100 ms and always for the last byte.</summary>
    /// <remarks><paramref name="emit"/> never throws (the server logs a lost event), so it is not awaited here.</remarks>
    private static SynchronousProgress UploadProgressFor(HostRequest request, long total, Func<HostResponse, Task> emit)
    {
        var last = Stopwatch.StartNew();
        return new SynchronousProgress(sent =>
        {
            if (sent < total && last.ElapsedMilliseconds < 100)
            {
                return;
            }
            last.Restart();
            _ = emit(new HostResponse { Id = request.Id, Ok = true, Event = "progress", Device = request.Device, Progress = new UploadProgress { Sent = sent, Total = total } });
        });
    }

    private sealed class SynchronousProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }

    /// <summary>For ops where the device is optional (logs, jobs): a named device must be in the map.</summary>
    private void RequireKnownIfNamed(HostRequest request)
    {
        if (request.Device is not null)
        {
            _devices.Get(request.Device);
        }
    }

    private static string RequireModuleId(HostRequest request) =>
        request.ModuleId is { } id && ModuleId.IsValid(id)
            ? id
            : throw new GatewayException(HostErrorCodes.BadRequest, "module_id must match [A-Za-z0-9_.-]{1,32}");

    private static async Task<T> TimedAsync<T>(Func<Task<T>> call, Timing timing)
    {
        var clock = Stopwatch.StartNew();
        var result = await call();
        timing.DeviceMs = clock.Elapsed.TotalMilliseconds;
        return result;
    }

    private static HostResponse FromAgentError(AgentLine line) =>
        Failure(line[AgentKeys.Code] ?? HostErrorCodes.ProtocolError, line[AgentKeys.Msg] ?? line.ToString());

    private static Dictionary<string, string> Fields(AgentLine line) => line.Fields.ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);

    private static string? Dash(string? value) => value is null or "-" ? null : value;

    private static JsonElement ToJsonValue(string text)
    {
        if (double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
        {
            try
            {
                using var number = JsonDocument.Parse(text.StartsWith('+') ? text[1..] : text);
                return number.RootElement.Clone();
            }
            catch (JsonException)
            {
                // Not JSON's number syntax (".5", "1."): fall through and keep the agent's text.
            }
        }
        using var doc = JsonDocument.Parse(JsonSerializer.Serialize(text, HostJsonContext.Default.String));
        return doc.RootElement.Clone();
    }
}
