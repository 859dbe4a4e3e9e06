using System.Diagnostics;

namespace Wasmorch.Testing;

public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>Runs the real <c>wasmorch</c> CLI as a process, the way a user's shell does.</summary>
public static class CliRunner
{
    public static Task<CliResult> RunAsync(string gateway, params string[] args) => RunWithEnvironmentAsync(gateway, new Dictionary<string, string>(), args);

    public static Task<CliResult> RunWithEnvironmentAsync(string gateway, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var (cli, leading) = RepoPaths.Cli;
        return RunProgramAsync(cli, [.. leading, "--gateway", gateway, .. args], environment);
    }

    /// <summary>A command that talks to no gateway (flash, gateway --check-config).</summary>
    public static Task<CliResult> RunLocalAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var (cli, leading) = RepoPaths.Cli;
        return RunProgramAsync(cli, [.. leading, .. args], environment);
    }

    /// <summary>
    /// Any program to its end (a published build under qemu, an installed tool), from the repository's
    /// root (or <paramref name="workingDirectory"/>), without the caller's WASMORCH_TOKEN; killed after <paramref name="limit"/> (default 90 s).
    /// </summary>
    public static async Task<CliResult> RunProgramAsync(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? limit = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepoPaths.Root,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment.Remove("WASMORCH_TOKEN");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var deadline = limit ?? TimeSpan.FromSeconds(90);
        using var cts = new CancellationTokenSource(deadline);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(program)} {string.Join(' ', info.ArgumentList)} did not finish within {deadline.TotalSeconds:0} s");
        }
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
