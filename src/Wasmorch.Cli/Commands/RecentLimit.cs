using System.CommandLine;

namespace Wasmorch.Cli.Commands;

/// <summary>
/// <c>--limit N</c> of <c>logs</c> and <c>events</c>: the newest N of the recent entries the gateway
/// answers with (it keeps the last 1000 of each; with --follow, the backlog before the live ones).
/// Cut here, as <c>tail -n</c> does, so that it works with every gateway.
/// </summary>
public static class RecentLimit
{
    public const int Kept = 1000;

    public static Option<int?> Option(string what) => new("--limit", "-n") { Description = $"Only the newest N {what} (1-{Kept}; default: all the gateway keeps, the last {Kept})" };

    /// <summary>Exit 2 with the error when the limit is out of range, else null.</summary>
    public static int? Check(ParseResult pr, Option<int?> limit)
    {
        if (pr.GetValue(limit) is { } n and (< 1 or > Kept))
        {
            Console.Error.WriteLine($"error: --limit {n} is out of range (1 to {Kept})");
            return ExitCodes.Usage;
        }
        return null;
    }

    /// <summary>The last <paramref name="limit"/> entries (the list is oldest first), or all of them.</summary>
    public static List<T>? Newest<T>(List<T>? entries, int? limit) =>
        entries is null || limit is not { } n || entries.Count <= n ? entries : entries[^n..];
}
