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

    public static async Task<CliResult> RunWithEnvironmentAsync(string gateway, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var (cli, leading) = RepoPaths.Cli;
        var info = new ProcessStartInfo(cli)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in leading)
        {
            info.ArgumentList.Add(arg);
        }
        info.ArgumentList.Add("--gateway");
        info.ArgumentList.Add(gateway);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        info.WorkingDirectory = RepoPaths.Root;
        info.Environment.Remove("WASMORCH_TOKEN");
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"wasmorch {string.Join(' ', args)} did not finish within 90 s");
        }
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }
}
