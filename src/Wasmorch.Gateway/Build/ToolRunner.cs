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

    public static async Task<Result> RunAsync(string tool, IEnumerable<string> args, string workDir, TimeSpan timeout, string missing, CancellationToken ct)
    {
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
            throw new GatewayException(HostErrorCodes.CompileError, missing);
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync(ct);
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
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
