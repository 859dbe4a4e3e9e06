using System.Diagnostics;
using System.Text;
using Wasmorch.Gateway.Api.Ops;
using Wasmorch.Gateway.Build;
using Wasmorch.Gateway.Config;
using Wasmorch.Gateway.Devices;
using Wasmorch.Gateway.Signing;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Protocol.Modules;
using static Wasmorch.Gateway.Api.Ops.Replies;

namespace Wasmorch.Gateway.Api.Deploy;

/// <summary>What a deploy starts from: C source to build (<c>build_and_deploy</c>) or module bytes (<c>deploy</c>).</summary>
public enum DeploySource
{
    CSource,
    ModuleBytes,

    /// <summary>A version this gateway deployed before, from its own record (rollback).</summary>
    Stored,
}

/// <summary>
/// Getting a module onto a device, one step after the other:
/// validate → signature → compile/AOT → skip if held → upload → record.
/// Each step either hands the deployment on or ends it with an error naming what is wrong; no byte
/// reaches the device before every check passed. Recording is the device session's: a LOAD_OK is
/// answered only after its observer (the state file) has it.
/// </summary>
public sealed class DeployPipeline(DeviceRegistry devices, BuildService build, GatewayConfig config, ModuleSignatures signatures)
{
    /// <summary>The module on its way: filled in step by step.</summary>
    private sealed class Deployment
    {
        public required OpContext Op { get; init; }

        public required IDevice Device { get; init; }

        public required string ModuleId { get; init; }

        public required DeploySource Source { get; init; }

        /// <summary>The bytes the signature covers: the C text, or the module as sent.</summary>
        public byte[] Signed { get; set; } = [];

        /// <summary>What goes to the device once built: wasm, or the device's AOT image.</summary>
        public byte[] Module { get; set; } = [];

        public AotTarget? Target { get; set; }

        public bool SignatureVerified { get; set; }

        public bool CacheHit { get; set; }

        public string Diagnostics { get; set; } = string.Empty;

        /// <summary>For <see cref="DeploySource.Stored"/>: the version put back.</summary>
        public ModuleVersion? Stored { get; init; }

        /// <summary>How the module came to be, as the state file records it.</summary>
        public string Artifact => Source switch
        {
            DeploySource.CSource => $"built:{Op.Request.Mode ?? "wasm"}",
            DeploySource.Stored => Stored!.Artifact ?? "file:as-is",
            _ => $"file:{Op.Request.Mode ?? "as-is"}",
        };
    }

    public async Task<HostResponse> RunAsync(OpContext op, DeploySource source, ModuleVersion? stored = null)
    {
        var deployment = Validate(op, source, stored);
        CheckSignature(deployment);
        await CompileAsync(deployment);
        await CheckSizeAsync(deployment);
        var response = await SkipIfHeldAsync(deployment) ?? await UploadAsync(deployment);
        if (source == DeploySource.CSource)
        {
            response.CacheHit = deployment.CacheHit;
            response.SignatureVerified = deployment.SignatureVerified;
            response.Artifact = deployment.Target is null ? "wasm" : $"aot:{deployment.Target.Name}";
            if (response.Ok && deployment.Diagnostics.Length > 0)
            {
                response.Message = response.Message is null ? deployment.Diagnostics.Trim() : $"{response.Message}\n{deployment.Diagnostics.Trim()}";
            }
        }
        if (response.Ok && devices.State is { } state)
        {
            // Every module a deploy sent is a version of its id: history lists it, rollback puts it back.
            response.Version = await state.RecordVersionAsync(deployment.ModuleId, deployment.Module, response.Sha256!, response.Crc32!, deployment.Artifact,
                source == DeploySource.CSource ? BuildService.Sha256(deployment.Signed) : deployment.Stored?.SourceSha256,
                deployment.SignatureVerified, op.Request.By);
            // The fleet's other gateways may need these bytes (a rollout's rollback of this device).
            await build.KeepModuleAsync(response.Sha256!, deployment.Module, op.Ct);
        }
        return response;
    }

    /// <summary>Step 1: the request itself: module id, mode, and the source or bytes within the gateway's limits.</summary>
    private Deployment Validate(OpContext op, DeploySource source, ModuleVersion? stored)
    {
        var request = op.Request;
        var moduleId = RequireModuleId(request);
        var device = devices.Get(request.Device);
        if (source == DeploySource.Stored)
        {
            var bytes = devices.State?.VersionBytes(stored!.Sha256)
                ?? throw new GatewayException(HostErrorCodes.Unsupported, $"the bytes of version {stored!.Version} of '{moduleId}' are gone from {devices.State?.VersionsDirectory}");
            return new Deployment { Op = op, Device = device, ModuleId = moduleId, Source = source, Stored = stored, Signed = bytes, Module = bytes };
        }
        if (request.Mode is not (null or "wasm" or "aot"))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"unknown mode '{request.Mode}' (wasm or aot)");
        }
        var deployment = new Deployment { Op = op, Device = device, ModuleId = moduleId, Source = source };
        if (source == DeploySource.CSource)
        {
            if (string.IsNullOrEmpty(request.Source))
            {
                throw new GatewayException(HostErrorCodes.BadRequest, "build_and_deploy needs source (the C text)");
            }
            // The files beside the source count too: together they are what the compiler reads.
            var length = request.Source.Length + (request.Files?.Sum(f => f.Key.Length + f.Value.Length) ?? 0);
            if (length > config.MaxSourceBytes)
            {
                throw new GatewayException(HostErrorCodes.BadRequest, $"source of {length} bytes exceeds the gateway's {config.MaxSourceBytes}");
            }
            deployment.Signed = Encoding.UTF8.GetBytes(request.Source);
            return deployment;
        }
        deployment.Signed = deployment.Module = DecodeModule(request);
        return deployment;
    }

    private byte[] DecodeModule(HostRequest request)
    {
        if (string.IsNullOrEmpty(request.Module))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, "deploy needs module (base64 bytes)");
        }
        if (request.Module.Length / 4 * 3 > config.MaxModuleBytes + 3)
        {
            throw new GatewayException(AgentErrorCodes.TooLarge, $"module exceeds the gateway's {config.MaxModuleBytes} bytes");
        }
        try
        {
            return Convert.FromBase64String(request.Module);
        }
        catch (FormatException)
        {
            throw new GatewayException(HostErrorCodes.BadRequest, "module is not valid base64");
        }
    }

    /// <summary>
    /// Step 2: an Ed25519 signature over the request's <see cref="DeployStatement"/> (the content's
    /// SHA-256 and everything that decides what lands where), required for devices that say so.
    /// </summary>
    private void CheckSignature(Deployment d)
    {
        if (d.Source == DeploySource.Stored)
        {
            // A version put back is trusted as far as it was when first deployed, no further.
            d.SignatureVerified = d.Stored!.SignatureVerified;
            if (config.RequireSigned.Contains(d.Device.Name) && !d.SignatureVerified)
            {
                throw new GatewayException(HostErrorCodes.NotSigned,
                    $"version {d.Stored.Version} of '{d.ModuleId}' was not signed when it was deployed, and device '{d.Device.Name}' requires signed modules");
            }
            return;
        }
        var request = d.Op.Request;
        if (request.Selector is { } selectorText && request.Op == HostOps.Deploy)
        {
            CheckRolloutSignature(d, selectorText);
            return;
        }
        d.SignatureVerified = signatures.Check(DeployStatement.For(request, d.Signed), request.Signature,
            config.RequireSigned.Contains(d.Device.Name), d.Device.Name);
    }

    /// <summary>
    /// A deploy a rollout makes carries the rollout's signature and selector: the signer signed the
    /// module once for every device that selector matches, so it is checked as the rollout's
    /// statement, and the device must match the selector (by its own labels) to take it.
    /// </summary>
    private void CheckRolloutSignature(Deployment d, string selectorText)
    {
        var request = d.Op.Request;
        var rollout = new HostRequest
        {
            Op = HostOps.Rollout, ModuleId = request.ModuleId, Mode = request.Mode, SourceName = request.SourceName,
            OptLevel = request.OptLevel, StackSize = request.StackSize, Exports = request.Exports, KeepNames = request.KeepNames, WasmOpt = request.WasmOpt, Selector = selectorText,
            Lang = request.Lang, Files = request.Files,
        };
        d.SignatureVerified = signatures.Check(DeployStatement.For(rollout, d.Signed), request.Signature, config.RequireSigned.Contains(d.Device.Name), d.Device.Name);
        if (!Selector.TryParse(selectorText, out var selector, out var error))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, error!);
        }
        if (d.SignatureVerified && !selector!.Matches(devices.LabelsOf(d.Device.Name)))
        {
            throw new GatewayException(HostErrorCodes.BadSignature,
                $"the rollout's signature covers the devices '{selectorText}' selects, and device '{d.Device.Name}' is not one of them (by its own labels)");
        }
    }

    /// <summary>Step 3: clang for C source; a wasm module checked against what devices run; the device's AOT image for --mode aot.</summary>
    private async Task CompileAsync(Deployment d)
    {
        var request = d.Op.Request;
        d.Target = await ResolveTargetAsync(d.Device, request.Mode, d.Op.Ct);
        var clock = Stopwatch.StartNew();
        if (d.Source == DeploySource.CSource)
        {
            var source = new ModuleSource(request.Source!, request.SourceName ?? d.ModuleId + ".c", request.Files ?? []);
            var compiled = await build.CompileAsync(source, BuildOptions.From(request), d.Op.Ct, Queued(d.Op));
            d.Module = compiled.Artifact;
            d.CacheHit = compiled.CacheHit;
            d.Diagnostics = compiled.Diagnostics;
        }
        var format = ModuleFormats.Detect(d.Module);
        if (format == ModuleFormat.Unknown)
        {
            // Garbage is garbage, signed or not: it is never forwarded as if it were native code.
            throw new GatewayException(AgentErrorCodes.InvalidModule, $"module '{d.ModuleId}' is {ModuleFormats.DescribeUnknown(d.Module)}");
        }
        if (format != ModuleFormat.Wasm)
        {
            // Native code (a Wasmtime or WAMR AOT image) runs as the device's own code: it may come
            // only from a builder the device trusts, which is this gateway (--mode aot builds it
            // from checked wasm) or a holder of a trusted signing key.
            // A version this gateway built as AOT itself is as trusted as when it built it.
            if (!d.SignatureVerified && !(d.Source == DeploySource.Stored && d.Artifact.StartsWith("built:aot", StringComparison.Ordinal)))
            {
                throw new GatewayException(HostErrorCodes.NotSigned,
                    $"module '{d.ModuleId}' is not wasm but native code (an AOT image); the gateway forwards native code only when it built it (deploy the .wasm with --mode aot) or a trusted key signed it (--sign-key)");
            }
            // Grants are decided by a module's imports, which only its wasm shows: a native image
            // brought by a host cannot be checked, so a device with grants takes none (fail closed).
            if (d.Source != DeploySource.Stored && config.GrantedTo(d.Device.Name, d.ModuleId) is not null)
            {
                throw new GatewayException(HostErrorCodes.NotGranted,
                    $"device '{d.Device.Name}' has grants ([devices.{d.Device.Name}] grants), and what a native image '{d.ModuleId}' uses cannot be checked; deploy its .wasm (with --mode aot for AOT): the gateway checks its imports, then builds it");
            }
            return;
        }
        ModuleValidator.Check(d.Module, d.Device.Capabilities, d.Device.Name);
        var device = await d.Device.CapabilitiesAsync(d.Op.Ct);
        ModuleValidator.CheckCapabilities(d.Module, device.Caps, config.GrantedTo(d.Device.Name, d.ModuleId), d.Device.Name, d.ModuleId);
        if (d.Target is not null)
        {
            var aot = await build.PrecompileAsync(d.Module, d.Target, d.Op.Ct, Queued(d.Op));
            d.Module = aot.Artifact;
            d.CacheHit = d.CacheHit && aot.CacheHit;
        }
        if (d.Source == DeploySource.CSource || d.Target is not null)
        {
            d.Op.Timing.CompileMs = clock.Elapsed.TotalMilliseconds;
        }
    }

    /// <summary>A host that asked for progress hears that its build waits for a compile slot.</summary>
    private static Action<int>? Queued(OpContext op) =>
        op.Request.Progress && op.Events is { } events
            ? ahead => _ = events(new HostResponse
            {
                Id = op.Request.Id, Ok = true, Event = "queued", Device = op.Request.Device,
                Message = $"waiting for a compile slot: {ahead} build(s) ahead",
            })
            : null;

    /// <summary>null for wasm; the device's AOT target for aot, or why it has none.</summary>
    private static async Task<AotTarget?> ResolveTargetAsync(IDevice device, string? mode, CancellationToken ct)
    {
        if (mode is null or "wasm")
        {
            return null;
        }
        var offered = await device.CapabilitiesAsync(ct);
        if (!offered.Modes.Contains("aot") || offered.AotTarget is null || offered.Runtime is null)
        {
            throw new GatewayException(HostErrorCodes.Unsupported, offered.IsBaseline
                ? $"--mode aot needs to know the device's AOT target, and '{device.Name}' is a seed-baseline agent (no HELLO); use --mode wasm"
                : $"device '{device.Name}' ({offered.Agent}) does not run AOT modules (modes={string.Join(',', offered.Modes)}); use --mode wasm");
        }
        return new AotTarget(offered.Runtime.Split('/')[0], offered.AotTarget);
    }

    /// <summary>The module as built fits the gateway's limit and the device's max_module (connecting to learn it).</summary>
    private async Task CheckSizeAsync(Deployment d)
    {
        if (d.Module.Length == 0 || d.Module.Length > config.MaxModuleBytes)
        {
            throw new GatewayException(AgentErrorCodes.TooLarge, $"module of {d.Module.Length} bytes; the gateway takes 1 to {config.MaxModuleBytes}");
        }
        if ((await d.Device.CapabilitiesAsync(d.Op.Ct)).MaxModule is { } deviceMax && d.Module.Length > deviceMax)
        {
            throw new GatewayException(AgentErrorCodes.TooLarge, $"module of {d.Module.Length} bytes exceeds device '{d.Device.Name}''s max_module of {deviceMax}");
        }
    }

    /// <summary>Step 4: a device whose STATUS lists this id with this CRC already holds the module (unless --force).</summary>
    private static async Task<HostResponse?> SkipIfHeldAsync(Deployment d)
    {
        if (d.Op.Request.Force)
        {
            return null;
        }
        var crc = Crc32Hex.Format(Crc32Hex.Compute(d.Module));
        var status = await TimedAsync(() => d.Device.StatusAsync(d.Op.Ct), d.Op.Timing);
        if (status.Value is not { } report
            || !string.Equals(report.ModuleCrcs.GetValueOrDefault(d.ModuleId), crc, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var held = Loaded(d, d.Module.Length, crc, skipped: true);
        d.Device.ReportHeld(HeldFrom(held, d.Artifact));
        return held;
    }

    /// <summary>Steps 5 and 6: LOAD and the payload; the session records a LOAD_OK before it returns.</summary>
    private static async Task<HostResponse> UploadAsync(Deployment d)
    {
        var op = d.Op;
        var progress = op.Request.Progress && op.Events is { } events ? ProgressEvents.For(op.Request, d.Module.Length, events) : null;
        var clock = Stopwatch.StartNew();
        LoadReply reply;
        using (var transfer = Telemetry.GatewayTracing.Source.StartActivity("transfer"))
        {
            transfer?.SetTag("wasmorch.bytes", d.Module.Length);
            reply = await d.Device.LoadAsync(d.ModuleId, d.Module, op.Ct, progress, d.Artifact);
        }
        var loadedAt = DateTimeOffset.UtcNow;
        op.Timing.DeviceMs = clock.Elapsed.TotalMilliseconds;
        op.Timing.TransferMs = reply.Transfer.TotalMilliseconds;
        if (reply.Reply.Value?.VerifyUs is { } verifyUs)
        {
            op.Timing.VerifyMs = verifyUs / 1000.0;
            op.Timing.TransferMs = Math.Max(0, op.Timing.TransferMs.Value - op.Timing.VerifyMs.Value);
            // The agent checks (and compiles) the module as the last bytes arrive: its verify time ends the transfer.
            Telemetry.GatewayTracing.Measured("device verify", loadedAt, TimeSpan.FromMicroseconds(verifyUs));
        }
        if (reply.Reply.Value is not { } acknowledged)
        {
            return FromAgentError(reply.Reply.Error!);
        }
        // The session took LOAD_OK only with the CRC and size of the bytes sent.
        var loaded = Loaded(d, d.Module.Length, acknowledged.Crc32, skipped: false);
        loaded.Message = reply.RecordWarning;
        return loaded;
    }

    private static HostResponse Loaded(Deployment d, long size, string crc, bool skipped) => new()
    {
        Ok = true,
        ModuleId = d.ModuleId,
        Size = size,
        Crc32 = crc,
        Status = "LOADED",
        UploadSkipped = skipped,
        Sha256 = BuildService.Sha256(d.Module),
        Artifact = "file",
    };

    private static HeldModule HeldFrom(HostResponse deployed, string artifact) => new()
    {
        ModuleId = deployed.ModuleId!,
        Crc32 = deployed.Crc32!,
        Sha256 = deployed.Sha256,
        Size = deployed.Size,
        Artifact = artifact,
    };
}
