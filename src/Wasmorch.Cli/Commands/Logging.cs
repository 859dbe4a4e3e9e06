using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Wasmorch.Cli.Commands;

internal static class Logging
{
    /// <summary>
    /// Logs go to stderr so that stdout stays the command's result. Under systemd (JOURNAL_STREAM
    /// set) each entry is one line with its syslog priority (&lt;6&gt; info, &lt;4&gt; warning, &lt;3&gt; error)
    /// and no timestamp: journald keeps both.
    /// </summary>
    public static ILoggerFactory Create(bool verbose, LogLevel normal = LogLevel.Information) =>
        LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(verbose ? LogLevel.Debug : normal);
            if (UnderJournal)
            {
                builder.AddSystemdConsole(o => o.IncludeScopes = false);
            }
            else
            {
                builder.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.TimestampFormat = "HH:mm:ss.fff ";
                    o.ColorBehavior = LoggerColorBehavior.Disabled;
                });
            }
            builder.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        });

    private static bool UnderJournal => Environment.GetEnvironmentVariable("JOURNAL_STREAM") is { Length: > 0 };
}
