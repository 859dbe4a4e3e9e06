using System.CommandLine;
using Wasmorch.Cli.Commands;

namespace Wasmorch.Cli;

/// <summary>
/// A command line that does not parse, said in the CLI's words: a mistyped command or option
/// names what it is closest to ("did you mean"), a global option where it does not apply says so,
/// and a short flag known elsewhere says what it means there.
/// </summary>
public static class ParseErrors
{
    /// <summary>What is wrong with the command line, a sentence each; none when it may run.</summary>
    public static IEnumerable<string> Describe(ParseResult parsed, GlobalOptions global)
    {
        var command = parsed.CommandResult.Command;
        var path = GlobalOptions.CommandPath(command);
        var unmatched = parsed.UnmatchedTokens;
        var said = new List<string>();
        if (global.Misplaced(parsed) is { } misplaced)
        {
            said.Add(misplaced);
        }
        var previousWasOption = false;
        for (var i = 0; i < unmatched.Count; i++)
        {
            var token = unmatched[i];
            if (token.StartsWith('-') && token.Length > 1)
            {
                said.Add(UnknownOption(command, path, token.Split('=')[0], global));
                previousWasOption = true;
                continue;
            }
            if (previousWasOption)
            {
                // The value of an option that was not recognised: already said.
                previousWasOption = false;
                continue;
            }
            if (i == 0 && command.Subcommands.Count > 0 && said.Count == 0)
            {
                // A mistyped command: what follows it belonged to the command meant, so no more is said.
                return [UnknownCommand(command, path, token)];
            }
            said.Add($"unexpected argument '{token}'" + (path.Length == 0 ? "" : $" to wasmorch {path}"));
        }
        // Asked for help, a command line that names what exists gets it, whatever it still lacks.
        var helpAsked = parsed.Action is HelpExamples.WithExamples;
        // A mistyped option leaves the option meant "required": said once, as the typo.
        var typo = said.Count > 0;
        foreach (var error in helpAsked || typo ? [] : parsed.Errors)
        {
            if (!unmatched.Any(token => error.Message.StartsWith("Unrecognized", StringComparison.Ordinal) && error.Message.Contains($"'{token}'", StringComparison.Ordinal)))
            {
                said.Add(error.Message);
            }
        }
        return said.Distinct(StringComparer.Ordinal);
    }

    private static string UnknownCommand(Command command, string path, string token)
    {
        var names = command.Subcommands.Where(c => !c.Hidden).SelectMany(c => c.Aliases.Prepend(c.Name));
        var where = path.Length == 0 ? "" : $" of wasmorch {path}";
        return $"unknown command '{token}'{where}" + Suggest(token, names);
    }

    private static string UnknownOption(Command command, string path, string token, GlobalOptions global)
    {
        var taken = AllOptions(command).ToList();
        var label = path.Length == 0 ? "wasmorch" : $"wasmorch {path}";
        if (global.Named(token) is { } known && !taken.Contains(known))
        {
            return GlobalOptions.NotTaken(path, known.Name);
        }
        var names = taken.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name)).ToList();
        var message = $"{label} has no option {token}";
        // -f on logs: a short flag means one thing across the CLI; say which, and what is close here.
        var elsewhere = ShortFlagElsewhere(command, token);
        var single = token.Length == 2 && token[0] == '-' && char.IsLetter(token[1]);
        var suggestion = single
            ? Listed(names.Where(n => n.StartsWith($"--{char.ToLowerInvariant(token[1])}", StringComparison.Ordinal)).Distinct())
            : Suggest(token, names);
        return message + (elsewhere is null ? "" : $" ({token} is {elsewhere})") + suggestion;
    }

    /// <summary>The options a command takes: its own, and the recursive ones of its ancestors (--help).</summary>
    private static IEnumerable<Option> AllOptions(Command command)
    {
        foreach (var option in command.Options)
        {
            yield return option;
        }
        for (var parent = command.Parents.OfType<Command>().FirstOrDefault(); parent is not null; parent = parent.Parents.OfType<Command>().FirstOrDefault())
        {
            foreach (var option in parent.Options.Where(o => o.Recursive))
            {
                yield return option;
            }
        }
    }

    /// <summary>"--file in deploy, apply, diff": what a short flag unknown here means in the other commands.</summary>
    private static string? ShortFlagElsewhere(Command here, string token)
    {
        if (token.Length != 2)
        {
            return null;
        }
        var root = here;
        while (root.Parents.OfType<Command>().FirstOrDefault() is { } parent)
        {
            root = parent;
        }
        var uses = Descendants(root)
            .SelectMany(c => c.Options.Where(o => o.Aliases.Contains(token)).Select(o => (Option: o.Name, Command: GlobalOptions.CommandPath(c))))
            .Where(u => u.Command.Length > 0)
            .ToList();
        return uses.Count == 0 ? null
            : string.Join("; ", uses.GroupBy(u => u.Option).Select(g => $"{g.Key} in {string.Join(", ", g.Select(u => u.Command).Distinct())}"));
    }

    private static IEnumerable<Command> Descendants(Command command) => command.Subcommands.SelectMany(Descendants).Prepend(command);

    /// <summary>"; did you mean x?" for the names closest to <paramref name="token"/> (a typo or two, or a prefix), else nothing.</summary>
    private static string Suggest(string token, IEnumerable<string> names)
    {
        var candidates = names.Distinct(StringComparer.Ordinal).ToList();
        var bare = token.TrimStart('-');
        var allowed = bare.Length <= 3 ? 1 : 2;
        var scored = candidates
            .Select(n => (Name: n, Distance: Distance(bare, n.TrimStart('-'))))
            .Where(s => s.Distance <= allowed)
            .ToList();
        if (scored.Count > 0)
        {
            var best = scored.Min(s => s.Distance);
            return Listed(scored.Where(s => s.Distance == best).Select(s => s.Name));
        }
        // "roll" for rollout and rollback; "--mod" for --module-id.
        return bare.Length >= 2 ? Listed(candidates.Where(n => n.TrimStart('-').StartsWith(bare, StringComparison.Ordinal))) : "";
    }

    private static string Listed(IEnumerable<string> names)
    {
        var list = names.ToList();
        return list.Count switch
        {
            0 => "",
            1 => $"; did you mean {list[0]}?",
            _ => $"; did you mean {string.Join(", ", list[..^1])} or {list[^1]}?",
        };
    }

    /// <summary>Edits (insert, delete, replace, swap two neighbours) from one word to the other.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }
        return d[a.Length, b.Length];
    }
}
