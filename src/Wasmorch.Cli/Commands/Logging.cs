using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Wasmorch.Cli.Commands;

internal static class Logging
{
    /// <summary>Logs go to stderr so that stdout stays the command's result.</summary>
    public static ILoggerFactory Create(bool verbose, LogLevel normal = LogLevel.Information) =>
        LoggerFactory.Create(builder => builder
            .SetMinimumLevel(verbose ? LogLevel.Debug : normal)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
                o.ColorBehavior = LoggerColorBehavior.Disabled;
            })
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
}
