using System.CommandLine;

namespace Wasmorch.Cli.Commands;

/// <summary>
/// Options that may stand before the subcommand, as in the seed (<c>--device nucleo start …</c>),
/// or after it. Each command says which it takes (<see cref="Takes"/>): its --help lists those
/// alone, and one given before a command that does not take it is an error
/// (<see cref="Misplaced"/>), except the connection options, which like their environment
/// variables are ignored by a command that connects to no gateway.
/// </summary>
public sealed class GlobalOptions
{
    public Option<string> Device { get; } = new("--device", "-d")
    {
        Description = "Logical device name from the gateway's device map",
    };

    public Option<string> Selector { get; } = new("--selector", "-l")
    {
        Description = "Every device whose labels match, instead of one --device: key=value[,key=value…] (key!=value excludes); docs/fleet-ops.md",
    };

    public Option<int> Parallel { get; } = new("--parallel")
    {
        Description = "With --selector: how many devices at a time (1-256)",
        DefaultValueFactory = _ => Client.SelectorFanOut.DefaultParallel,
    };

    public Option<string> Gateway { get; } = new("--gateway")
    {
        Description = "Gateway address [tls://]host:port, or a fleet nats://host:port?fleet=name (default: $WASMORCH_GATEWAY, else 127.0.0.1:9000)",
    };

    public Option<string> Token { get; } = new("--token")
    {
        Description = "Access token of a gateway that requires one (default: $WASMORCH_TOKEN)",
    };

    public Option<string> TlsCa { get; } = new("--tls-ca")
    {
        Description = "With a tls:// gateway: PEM certificate(s) to trust, a private CA or the gateway's own (default: $WASMORCH_TLS_CA, else the system's store)",
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print one JSON object per command, for scripts",
    };

    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "More log output on stderr",
    };

    private IEnumerable<Option> All => [Device, Selector, Parallel, Gateway, Token, TlsCa, Json, Verbose];

    /// <summary>How to reach a gateway: harmless where nothing is reached, as $WASMORCH_GATEWAY is.</summary>
    private IEnumerable<Option> Connection => [Gateway, Token, TlsCa];

    /// <summary>The global option <paramref name="alias"/> names (--device or -d), if any.</summary>
    public Option? Named(string alias) => All.FirstOrDefault(o => o.Name == alias || o.Aliases.Contains(alias));

    /// <summary>Every global option on the root, so that each may stand before the subcommand.</summary>
    public void AddTo(RootCommand root)
    {
        foreach (var option in All)
        {
            root.Options.Add(option);
        }
    }

    /// <summary>Adds the global options <paramref name="uses"/> names to <paramref name="command"/>: its help lists them, and they may follow it.</summary>
    public T Takes<T>(T command, GlobalUse uses)
        where T : Command
    {
        IEnumerable<Option> taken =
        [
            .. uses.HasFlag(GlobalUse.Device) ? [Device] : Array.Empty<Option>(),
            .. uses.HasFlag(GlobalUse.Selector) ? [Selector] : Array.Empty<Option>(),
            .. uses.HasFlag(GlobalUse.Parallel) ? [Parallel] : Array.Empty<Option>(),
            .. uses.HasFlag(GlobalUse.Connection) ? Connection : [],
            .. uses.HasFlag(GlobalUse.Json) ? [Json] : Array.Empty<Option>(),
            .. uses.HasFlag(GlobalUse.Verbose) ? [Verbose] : Array.Empty<Option>(),
        ];
        foreach (var option in taken)
        {
            command.Options.Add(option);
        }
        return command;
    }

    /// <summary>
    /// The error for a global option given (before the subcommand) to a command that does not
    /// take it (<c>--device nucleo gateway</c>): it would be ignored, and the command would not
    /// do what its author meant. Null when every option given applies.
    /// </summary>
    public string? Misplaced(ParseResult parsed)
    {
        var command = parsed.CommandResult.Command;
        if (command is RootCommand)
        {
            return null;
        }
        foreach (var option in All.Except(Connection))
        {
            if (parsed.GetResult(option) is { Implicit: false } && !command.Options.Contains(option))
            {
                return NotTaken(CommandPath(command), option.Name);
            }
        }
        return null;
    }

    /// <summary>"wasmorch gateway does not take --device": said the same for a global option before or after the command.</summary>
    public static string NotTaken(string commandPath, string option) =>
        $"wasmorch {commandPath} does not take {option} (wasmorch {commandPath} --help lists what it takes)";

    /// <summary>The command's words after <c>wasmorch</c>: "rollout start".</summary>
    public static string CommandPath(Command command)
    {
        var words = new List<string>();
        for (Symbol? at = command; at is Command { } c and not RootCommand; at = c.Parents.FirstOrDefault())
        {
            words.Insert(0, c.Name);
        }
        return string.Join(' ', words);
    }
}

/// <summary>Which global options a command takes (<see cref="GlobalOptions.Takes"/>).</summary>
[Flags]
public enum GlobalUse
{
    None = 0,

    /// <summary>--device: the command acts on (or filters by) one device.</summary>
    Device = 1,

    /// <summary>--selector: the command runs on (or is about) every device a selector matches.</summary>
    Selector = 2,

    /// <summary>--parallel: the command runs on a selector's devices so many at a time.</summary>
    Parallel = 32,

    /// <summary>--gateway, --token, --tls-ca: the command talks to a gateway (or a fleet).</summary>
    Connection = 4,

    /// <summary>--json: the command prints JSON for scripts.</summary>
    Json = 8,

    /// <summary>--verbose: the command logs (a gateway, emulated boards).</summary>
    Verbose = 16,

    /// <summary>A command on one device or a selector's devices, through a gateway.</summary>
    Devices = Device | Selector | Parallel | Connection | Json,

    /// <summary>A command answered by the gateway, about no device in particular.</summary>
    GatewayOnly = Connection | Json,
}
