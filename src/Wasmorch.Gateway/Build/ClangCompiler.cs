using System.ComponentModel;
using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Build;

public sealed record CompileResult(byte[] Module, string Diagnostics, TimeSpan Elapsed);

/// <summary>
/// Compiles C source sent by a host into a wasm module with the seed's flags. Each compile runs in
/// a fresh directory that holds only the source and the SDK header (wasmorch.h, embedded in this
/// assembly); diagnostics name the user's file, not the scratch path.
/// </summary>
public sealed partial class ClangCompiler
{
    private static readonly Lazy<byte[]> SdkHeader = new(() =>
    {
        using var stream = typeof(ClangCompiler).Assembly.GetManifestResourceStream("wasmorch.h")
            ?? throw new InvalidOperationException("wasmorch.h is not embedded in the gateway");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    private readonly string _clang;
    private readonly TimeSpan _timeout;

    public ClangCompiler(string clang, TimeSpan timeout)
    {
        _clang = clang;
        _timeout = timeout;
    }

    public static bool IsValidSourceName(string name) => SourceNamePattern().IsMatch(name);

    public async Task<CompileResult> CompileAsync(string source, string sourceName, CancellationToken ct)
    {
        if (!IsValidSourceName(sourceName))
        {
            throw new GatewayException(HostErrorCodes.BadRequest, $"source name '{sourceName}' must be a plain file name ending in .c");
        }
        var clock = Stopwatch.StartNew();
        var dir = Directory.CreateTempSubdirectory("wasmorch-build-");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir.FullName, "include"));
            await File.WriteAllBytesAsync(Path.Combine(dir.FullName, "include", "wasmorch.h"), SdkHeader.Value, ct);
            await File.WriteAllTextAsync(Path.Combine(dir.FullName, sourceName), source, Encoding.UTF8, ct);
            var (exitCode, stderr) = await RunClangAsync(dir.FullName, sourceName, ct);
            var diagnostics = stderr.Replace(dir.FullName + Path.DirectorySeparatorChar, string.Empty, StringComparison.Ordinal);
            var output = Path.Combine(dir.FullName, "module.wasm");
            if (exitCode != 0 || !File.Exists(output))
            {
                throw new GatewayException(HostErrorCodes.CompileError, Summarize(diagnostics, sourceName), diagnostics);
            }
            return new CompileResult(await File.ReadAllBytesAsync(output, ct), diagnostics, clock.Elapsed);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private async Task<(int ExitCode, string Stderr)> RunClangAsync(string workDir, string sourceName, CancellationToken ct)
    {
        var info = new ProcessStartInfo(_clang)
        {
            WorkingDirectory = workDir,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var flag in CompileFlags.Seed)
        {
            info.ArgumentList.Add(flag);
        }
        foreach (var arg in new[] { "-fno-color-diagnostics", "-I", "include", "-o", "module.wasm", sourceName })
        {
            info.ArgumentList.Add(arg);
        }
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new GatewayException(HostErrorCodes.CompileError, $"could not start {_clang}");
        }
        catch (Win32Exception ex)
        {
            throw new GatewayException(HostErrorCodes.CompileError,
                $"compiler '{_clang}' is not available ({ex.Message}); install clang and lld (apt-get install clang lld) or set [build] clang in wasmorch.toml");
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync(ct);
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(_timeout);
            try
            {
                await process.WaitForExitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
                if (ct.IsCancellationRequested)
                {
                    throw;
                }
                throw new GatewayException(HostErrorCodes.CompileError, $"compile of {sourceName} took longer than {_timeout.TotalSeconds:0} s and was stopped");
            }
            await stdout;
            return (process.ExitCode, await stderr);
        }
    }

    /// <summary>The first error line, which is what a user needs to see first.</summary>
    private static string Summarize(string diagnostics, string sourceName)
    {
        foreach (var line in diagnostics.Split('\n'))
        {
            if (line.Contains("error:", StringComparison.Ordinal))
            {
                return line.Trim();
            }
        }
        return $"clang failed to compile {sourceName}";
    }

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\.c$")]
    private static partial Regex SourceNamePattern();
}
