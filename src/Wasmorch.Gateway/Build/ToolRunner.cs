using System.ComponentModel;
using System.Diagnostics;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Build;

/// <summary>Tool versions for reports such as <c>wasmorch doctor</c>.</summary>
public static class ToolVersions
{
    public static Task<string> OfAsync(string tool, string flag) => ToolRunner.VersionAsync(tool, flag);
}

/// <summary>Runs a build tool (clang, wamrc) with a deadline; a missing tool is a COMPILE_ERROR that says how to get it.</summary>
internal static class ToolRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>Diagnostics kept of a tool's output; a macro bomb's megabytes of errors are cut here.</summary>
    public const int MaxOutputChars = 64 * 1024;

    /// <param name="readOnly">Directories outside /usr the tool reads, shown read-only inside the sandbox.</param>
    public static async Task<Result> RunAsync(string tool, IEnumerable<string> args, string workDir, TimeSpan timeout, string missing, CancellationToken ct, Sandbox? sandbox = null, IReadOnlyList<string>? readOnly = null, bool capData = false)
    {
        if (sandbox is not null)
        {
            if (!File.Exists(sandbox.Tool) && !Path.IsPathRooted(sandbox.Tool) && !OnPath(sandbox.Tool))
            {
                throw new GatewayException(HostErrorCodes.CompileError, Sandbox.Missing(sandbox.Tool));
            }
            if (!Path.IsPathRooted(tool))
            {
                tool = Resolve(tool) ?? throw new GatewayException(HostErrorCodes.CompileError, missing);
            }
            else if (!File.Exists(tool))
            {
                throw new GatewayException(HostErrorCodes.CompileError, missing);
            }
            (tool, var wrapped) = sandbox.Wrap(tool, args, workDir, readOnly, capData);
            args = wrapped;
        }
        var info = new ProcessStartInfo(tool)
        {
            WorkingDirectory = workDir,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new GatewayException(HostErrorCodes.CompileError, missing);
        }
        catch (Win32Exception)
        {
            throw new GatewayException(HostErrorCodes.CompileError, sandbox is null ? missing : Sandbox.Missing(sandbox.Tool));
        }
        using (process)
        {
            var stderr = ReadCappedAsync(process.StandardError, ct);
            var stdout = ReadCappedAsync(process.StandardOutput, ct);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(timeout);
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
                throw new GatewayException(HostErrorCodes.CompileError, $"{Path.GetFileName(tool)} took longer than {timeout.TotalSeconds:0} s and was stopped");
            }
            return new Result(process.ExitCode, await stdout, await stderr);
        }
    }

    /// <summary>Reads a stream to its end but keeps only the first <see cref="MaxOutputChars"/> characters.</summary>
    private static async Task<string> ReadCappedAsync(StreamReader reader, CancellationToken ct)
    {
        var kept = new System.Text.StringBuilder();
        var buffer = new char[8192];
        int read;
        while ((read = await reader.ReadAsync(buffer, ct)) > 0)
        {
            var room = MaxOutputChars - kept.Length;
            if (room > 0)
            {
                kept.Append(buffer, 0, Math.Min(room, read));
                if (read > room)
                {
                    kept.Append("\n[output cut at 64 KiB]\n");
                }
            }
        }
        return kept.ToString();
    }

    private static bool OnPath(string tool) => Resolve(tool) is not null;

    /// <summary>The absolute path of a tool on PATH (a sandbox runs it by path, with its own PATH).</summary>
    public static string? Resolve(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);

    /// <summary>The first line a tool prints for its version flag, or "not found".</summary>
    public static async Task<string> VersionAsync(string tool, string flag)
    {
        try
        {
            var result = await RunAsync(tool, [flag], Path.GetTempPath(), TimeSpan.FromSeconds(10), "not found", CancellationToken.None);
            var text = (result.Stdout + result.Stderr).Trim();
            return text.Length == 0 ? "unknown" : text.Split('\n')[0].Trim();
        }
        catch (GatewayException)
        {
            return "not found";
        }
    }
}
