using Wasmorch.Gateway.Build;
using Wasmorch.Gateway.State;
using Wasmorch.Transport;

namespace Wasmorch.Gateway.Config;

/// <summary>
/// <c>wasmorch gateway --check-config</c>: what the gateway would refuse at start, found without
/// serving (a service's ExecStartPre), plus what it would miss later (tools, absent ttys). Nothing
/// is opened for good: the state file and the link key are only looked at, their directories tried.
/// </summary>
public static class ConfigCheck
{
    public enum Severity
    {
        Ok,
        Warning,
        Error,
    }

    public sealed record Finding(Severity Severity, string Subject, string Text)
    {
        public override string ToString() => $"{Severity switch { Severity.Ok => "ok   ", Severity.Warning => "warn ", _ => "error" }} {Subject}: {Text}";
    }

    public static async Task<IReadOnlyList<Finding>> RunAsync(GatewayConfig config, string origin)
    {
        var findings = new List<Finding> { new(Severity.Ok, "config", $"{origin}: {config.Devices.Count} device(s)") };
        // The start's own rules (listen, http, otlp, signing, fleet, link key), each as the start would judge it.
        foreach (var check in config.Validate())
        {
            findings.Add(check.Problem is null ? new(Severity.Ok, check.Subject, check.Found) : new(Severity.Error, check.Subject, check.Problem));
        }
        foreach (var (name, endpoint) in config.Devices.OrderBy(d => d.Key, StringComparer.Ordinal))
        {
            findings.Add(DeviceFinding(name, endpoint));
        }
        if (config.StatePath != "off")
        {
            var path = config.StatePath ?? GatewayState.DefaultPath(config.Port);
            findings.Add(Writable("state", Path.GetDirectoryName(Path.GetFullPath(path))!, $"{path} ({(File.Exists(path) ? "exists" : "will be created")})"));
        }
        else
        {
            findings.Add(new(Severity.Ok, "state", "off (nothing kept across restarts)"));
        }
        var cache = config.CacheDirectory ?? ArtifactCache.DefaultDirectory();
        findings.Add(Writable("cache", cache, cache));
        try
        {
            using var certificate = config.LoadTlsCertificate();
            if (certificate is not null)
            {
                findings.Add(new(Severity.Ok, "tls", $"{config.TlsCertificate} ({certificate.Subject}, until {certificate.NotAfter:yyyy-MM-dd})"));
            }
        }
        catch (ConfigException ex)
        {
            findings.Add(new(Severity.Error, "tls", ex.Message));
        }
        findings.Add(await ToolAsync("clang", config.Clang, "builds from C source fail (apt-get install clang lld); deploying .wasm still works"));
        findings.Add(await ToolAsync("wasm-ld", "wasm-ld", "clang cannot link wasm (apt-get install lld)"));
        findings.Add(await ToolAsync("rustc", config.Rustc, "builds from Rust source (.rs) fail (apt-get install rustc libstd-rust-dev-wasm32)"));
        findings.Add(await ToolAsync("node", config.Node, "builds from AssemblyScript source (.ts) fail (apt-get install nodejs)"));
        var asc = config.Asc ?? Build.AssemblyScriptCompiler.FindInstalled();
        findings.Add(asc is not null && File.Exists(asc)
            ? new(Severity.Ok, "asc", asc)
            : new(Severity.Warning, "asc", Build.AssemblyScriptCompiler.MissingAsc(asc ?? Build.AssemblyScriptCompiler.InstalledAsc)));
        findings.Add(await ToolAsync("wamrc", config.Wamrc, "--mode aot to WAMR boards fails; wasm and emulated boards work"));
        findings.Add(await ToolAsync("wasm-opt", config.WasmOpt, "builds asking for wasm_opt fail (apt-get install binaryen)"));
        if (config.Sandbox == "bwrap")
        {
            findings.Add(await ToolAsync("bwrap", "bwrap", "builds fail: the compiler sandbox is missing (apt-get install bubblewrap, or [build] sandbox = \"off\")", Severity.Error));
        }
        return findings;
    }

    /// <summary>Endpoints were parsed when the file was read (a bad one is an error there); a tty that is not there now is a warning.</summary>
    private static Finding DeviceFinding(string name, DeviceEndpoint endpoint)
    {
        if (endpoint.Kind == EndpointKind.Serial && endpoint.Path.StartsWith('/') && !File.Exists(endpoint.Path))
        {
            return new(Severity.Warning, $"device {name}", $"{endpoint}: {endpoint.Path} is not there now (unplugged? the gateway retries when asked)");
        }
        return new(Severity.Ok, $"device {name}", endpoint.ToString());
    }

    /// <summary><paramref name="dir"/> exists or can be made, and a file can be written in it; <paramref name="shown"/> is what the ok line says.</summary>
    private static Finding Writable(string subject, string dir, string shown)
    {
        var probe = Path.Combine(dir, $".wasmorch-check-{Environment.ProcessId}");
        try
        {
            Directory.CreateDirectory(dir);
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return new(Severity.Ok, subject, shown);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new(Severity.Error, subject, $"{dir} is not writable: {ex.Message}");
        }
    }

    private static async Task<Finding> ToolAsync(string subject, string tool, string without, Severity missing = Severity.Warning)
    {
        var version = await ToolVersions.OfAsync(tool, "--version");
        return version == "not found" ? new(missing, subject, $"'{tool}' not found: {without}") : new(Severity.Ok, subject, version);
    }
}
