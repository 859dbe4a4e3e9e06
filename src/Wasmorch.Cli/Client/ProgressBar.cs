using System.Diagnostics;
using System.Globalization;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli.Client;

/// <summary>
/// An upload progress bar with bytes, rate and ETA. It appears only once an upload has taken a
/// second (fast uploads print nothing) and only on a terminal; it erases itself when done.
/// </summary>
public sealed class ProgressBar
{
    private const int Width = 30;
    private static readonly TimeSpan ShowAfter = TimeSpan.FromSeconds(1);

    private readonly TextWriter _out;
    private readonly string _label;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private bool _shown;

    public ProgressBar(TextWriter output, string label)
    {
        _out = output;
        _label = label;
    }

    /// <summary>True where a bar makes sense: a terminal, and not --json.</summary>
    public static bool Wanted(bool json) => !json && !Console.IsOutputRedirected;

    public void Update(HostResponse progressEvent)
    {
        if (progressEvent.Progress is not { Total: > 0 } p || _clock.Elapsed < ShowAfter)
        {
            return;
        }
        _shown = true;
        _out.Write('\r' + Render(_label, p.Sent, p.Total, _clock.Elapsed));
        _out.Flush();
    }

    public void Finish()
    {
        if (_shown)
        {
            _out.Write('\r' + new string(' ', Width + 70) + '\r');
            _out.Flush();
        }
    }

    public static string Render(string label, long sent, long total, TimeSpan elapsed)
    {
        var fraction = Math.Clamp((double)sent / total, 0, 1);
        var filled = (int)(fraction * Width);
        var rate = elapsed.TotalSeconds > 0 ? sent / elapsed.TotalSeconds : 0;
        var eta = rate > 0 ? TimeSpan.FromSeconds((total - sent) / rate) : TimeSpan.Zero;
        return string.Create(CultureInfo.InvariantCulture,
            $"{label} [{new string('#', filled)}{new string('.', Width - filled)}] {sent / 1024.0:0.0}/{total / 1024.0:0.0} KiB {rate / 1024.0:0.0} KiB/s ETA {eta.TotalSeconds:0}s");
    }
}
