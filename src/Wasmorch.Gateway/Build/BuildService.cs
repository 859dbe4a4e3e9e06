using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;
using Wasmorch.WasmtimeTarget;

namespace Wasmorch.Gateway.Build;

/// <param name="CacheHit">Nothing was compiled: the artifact came from this gateway's cache or from the fleet's.</param>
public sealed record BuildOutput(byte[] Artifact, bool CacheHit, TimeSpan Elapsed, string Diagnostics);

/// <summary>
/// Source (C, C++, Rust, AssemblyScript: <see cref="ModuleCompilers"/>) → wasm → AOT (wamrc or
/// Wasmtime) with every step content-addressed in the artifact cache: an unchanged source for an
/// unchanged target is never compiled twice.
/// </summary>
public sealed class BuildService : IDisposable
{
    private readonly ModuleCompilers _compilers;
    private readonly AotCompiler _aot;
    private readonly ArtifactCache _cache;
    private readonly State.GatewayState? _index;

    private readonly CompileSlots _queue;

    /// <summary>Compiles waiting for a slot now (a queue depth the metrics report).</summary>
    public int CompilesWaiting => _queue.Waiting;

    /// <summary>The fleet's artifacts, consulted before compiling and given what this gateway compiles (null: none).</summary>
    public ISharedArtifacts? Shared { get; set; }

    public BuildService(ClangCompiler clang, AotCompiler aot, ArtifactCache cache, State.GatewayState? index = null, CompileSlots? queue = null)
        : this(new ModuleCompilers(clang), aot, cache, index, queue)
    {
    }

    public BuildService(ModuleCompilers compilers, AotCompiler aot, ArtifactCache cache, State.GatewayState? index = null, CompileSlots? queue = null)
    {
        _compilers = compilers;
        _aot = aot;
        _cache = cache;
        _queue = queue ?? new CompileSlots(CompileSlots.DefaultParallel(Sandbox.MemoryBytes));
        _index = index;
        if (index is not null)
        {
            // Files evicted (or deleted by hand) while the gateway was down leave the index too.
            foreach (var key in index.ArtifactKeys().Where(k => !cache.Contains(k)))
            {
                index.ForgetArtifact(key);
            }
            cache.Evicted += index.ForgetArtifact;
        }
    }

    public ClangCompiler Clang => _compilers.C;

    public ModuleCompilers Compilers => _compilers;

    public AotCompiler Aot => _aot;

    /// <summary>
    /// The module a request names by exactly one of C <paramref name="source"/> (built) and
    /// <paramref name="moduleBase64"/> (decoded): a desired-state entry, a rollout. Errors start
    /// with <paramref name="where"/>.
    /// </summary>
    public async Task<byte[]> ModuleOfAsync(string where, string? source, string? sourceName, string? moduleBase64, BuildOptions options, CancellationToken ct, string? sha256 = null, IReadOnlyDictionary<string, string>? files = null)
    {
        if (new[] { source, moduleBase64, sha256 }.Count(x => x is not null) != 1)
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"{where}: give exactly one of source (C, C++, Rust, AssemblyScript), module (wasm) and sha256 (a module this gateway keeps)");
        }
        if (source is not null)
        {
            return (await CompileAsync(new ModuleSource(source, sourceName ?? "module.c", files ?? new Dictionary<string, string>()), options, ct)).Artifact;
        }
        if (sha256 is not null)
        {
            return await KeptModuleAsync(sha256, ct)
                ?? throw new GatewayException(AgentErrorCodes.NoModule, $"{where}: no module with SHA-256 {sha256} is kept by this gateway or its fleet");
        }
        try
        {
            return Convert.FromBase64String(moduleBase64!);
        }
        catch (FormatException)
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"{where}: module is not valid base64");
        }
    }

    private static string SharedModuleKey(string sha256) => "module-" + sha256;

    /// <summary>Modules already offered to the fleet by this process: each is stored there once.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _sharedModules = new(StringComparer.Ordinal);

    /// <summary>
    /// Keeps a module's bytes under its SHA-256 (the state file's versions directory) and offers
    /// them to the fleet, so that another gateway can put this version on its devices (a fleet's
    /// desired state, a rollout's rollback) without building anything.
    /// </summary>
    public async Task KeepModuleAsync(string sha256, byte[] module, CancellationToken ct)
    {
        if (_index is not null)
        {
            await _index.KeepBytesAsync(sha256, module);
        }
        if (Shared is not null && _sharedModules.TryAdd(sha256, true))
        {
            await PublishSharedAsync(SharedModuleKey(sha256), module, ct);
        }
    }

    /// <summary>
    /// The module kept under <paramref name="sha256"/>: this gateway's copy, else the fleet's (kept
    /// here from then on); null when neither has it. Bytes whose hash is not the name are refused.
    /// </summary>
    public async Task<byte[]?> KeptModuleAsync(string sha256, CancellationToken ct)
    {
        if (sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigitLower))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"sha256 '{sha256}' is not 64 lower-case hex digits");
        }
        if (_index?.VersionBytes(sha256) is { } local)
        {
            return local;
        }
        if (await FetchSharedAsync(SharedModuleKey(sha256), ct) is not { } fetched)
        {
            return null;
        }
        if (Sha256(fetched) != sha256)
        {
            throw new GatewayException(HostErrorCodes.Internal, $"the fleet's copy of module {sha256} has another SHA-256 ({Sha256(fetched)}): refused");
        }
        if (_index is not null)
        {
            await _index.KeepBytesAsync(sha256, fetched);
        }
        return fetched;
    }

    /// <param name="queued">Told how many compiles are ahead when this one must wait for a slot.</param>
    public Task<BuildOutput> CompileAsync(string source, string sourceName, BuildOptions options, CancellationToken ct, Action<int>? queued = null) =>
        CompileAsync(new ModuleSource(source, sourceName), options, ct, queued);

    /// <summary>Builds a source in its language (its name's extension, or <see cref="BuildOptions.Lang"/>), from the cache when it can.</summary>
    /// <param name="queued">Told how many compiles are ahead when this one must wait for a slot.</param>
    public async Task<BuildOutput> CompileAsync(ModuleSource source, BuildOptions options, CancellationToken ct, Action<int>? queued = null)
    {
        using var span = Telemetry.GatewayTracing.Source.StartActivity("compile");
        var clock = Stopwatch.StartNew();
        var diagnostics = string.Empty;
        var compiler = _compilers.For(SourceLanguage.Of(source.Name, options.Lang));
        span?.SetTag("wasmorch.lang", compiler.Language.Name);
        var key = ArtifactCache.Key("wasm", compiler.Language.Name, Sha256(Encoding.UTF8.GetBytes(source.Text)), source.Name, SourceFiles.Sha256(source.Files) ?? "-", options.ToString(), await compiler.IdentityAsync(options), compiler.BindingsSha256);
        var fetched = false;
        var (wasm, hit) = await _cache.GetOrBuildAsync(key, async () =>
        {
            if (await FetchSharedAsync(key, ct) is { } shared)
            {
                fetched = true;
                return shared;
            }
            var compiled = await _queue.RunAsync(() => compiler.CompileAsync(source, options, ct), queued, ct);
            diagnostics = compiled.Diagnostics;
            await PublishSharedAsync(key, compiled.Module, ct);
            return compiled.Module;
        });
        hit |= fetched;
        span?.SetTag("wasmorch.cache_hit", hit);
        _index?.RecordArtifact(key, "wasm", Sha256(wasm), wasm.Length);
        return new BuildOutput(wasm, hit, clock.Elapsed, diagnostics);
    }

    public async Task<BuildOutput> PrecompileAsync(byte[] wasm, AotTarget target, CancellationToken ct, Action<int>? queued = null)
    {
        using var span = Telemetry.GatewayTracing.Source.StartActivity("aot");
        span?.SetTag("wasmorch.target", target.Name);
        var clock = Stopwatch.StartNew();
        var toolchain = target.Runtime == "wasmtime" ? EmulatedTarget.Version : await _aot.WamrcIdentityAsync();
        var key = ArtifactCache.Key("aot", Sha256(wasm), target.ToString(), toolchain);
        var fetched = false;
        var (artifact, hit) = await _cache.GetOrBuildAsync(key, async () =>
        {
            if (await FetchSharedAsync(key, ct) is { } shared)
            {
                fetched = true;
                return shared;
            }
            var compiled = (await _queue.RunAsync(() => _aot.CompileAsync(wasm, target, ct), queued, ct)).Artifact;
            await PublishSharedAsync(key, compiled, ct);
            return compiled;
        });
        hit |= fetched;
        _index?.RecordArtifact(key, $"aot:{target}", Sha256(artifact), artifact.Length);
        return new BuildOutput(artifact, hit, clock.Elapsed, string.Empty);
    }

    public static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private Task<byte[]?> FetchSharedAsync(string key, CancellationToken ct) => Shared?.FetchAsync(key, ct) ?? Task.FromResult<byte[]?>(null);

    private Task PublishSharedAsync(string key, byte[] artifact, CancellationToken ct) => Shared?.PublishAsync(key, artifact, ct) ?? Task.CompletedTask;

    public void Dispose()
    {
        _aot.Dispose();
        _queue.Dispose();
    }
}
