using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Wasmorch.Testing;

/// <summary>
/// A long-running real process (gateway, emulator) whose stdout is watched line by line, so a test
/// can wait for "listening on …" instead of sleeping. Killed with its children on dispose.
/// </summary>
public sealed class RunningProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = [];
    private readonly ConcurrentQueue<string> _all = new();

    private RunningProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _all.Enqueue("[err] " + e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output => string.Join('\n', _all);

    /// <summary>What the process wrote on stderr so far.</summary>
    public string Errors => string.Join('\n', _all.Where(l => l.StartsWith("[err] ", StringComparison.Ordinal)).Select(l => l["[err] ".Length..]));

    /// <summary>Any program (QEMU, a script), with stdout watched the same way.</summary>
    public static RunningProcess Start(string fileName, params string[] args) => new(Process.Start(StartInfo(fileName, args))!);

    /// <summary>Starts a process described in full (its environment, say); output is captured as for the others.</summary>
    public static RunningProcess Start(ProcessStartInfo info)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = true;
        info.UseShellExecute = false;
        return new(Process.Start(info)!);
    }

    private static ProcessStartInfo StartInfo(string fileName, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        return info;
    }

    public static RunningProcess StartCli(params string[] args) => StartCliWithEnvironment(null, args);

    public static RunningProcess StartCliWithEnvironment(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var (cli, leading) = RepoPaths.Cli;
        var info = StartInfo(cli, [.. leading, .. args]);
        info.Environment.Remove("WASMORCH_GATEWAY");
        info.Environment.Remove("WASMORCH_TOKEN");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        return new RunningProcess(Process.Start(info)!);
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            _lines.CompleteAdding();
            return;
        }
        _all.Enqueue(line);
        _lines.Add(line);
    }

    /// <summary>Waits for a stdout line matching <paramref name="pattern"/> and returns its match.</summary>
    public Match WaitForLine(string pattern, TimeSpan? timeout = null)
    {
        var regex = new Regex(pattern);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            foreach (var line in _lines.GetConsumingEnumerable(cts.Token))
            {
                var match = regex.Match(line);
                if (match.Success)
                {
                    return match;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Fall through to the failure below, which shows what the process did print.
        }
        throw new TimeoutException($"no line matching /{pattern}/; output so far:\n{Output}");
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    /// <summary>SIGINT, as Ctrl-C in a terminal sends it.</summary>
    public Task InterruptAsync() => SignalAsync("INT");

    /// <summary>Sends a signal by name (<c>TERM</c>, <c>INT</c>, …), as kill(1) does.</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        await kill.WaitForExitAsync();
    }

    /// <summary>SIGKILL: the process gets no chance to say goodbye, like a board losing power.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
        _lines.Dispose();
    }
}
