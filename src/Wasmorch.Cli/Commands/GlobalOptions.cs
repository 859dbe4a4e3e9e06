using System.CommandLine;

namespace Wasmorch.Cli.Commands;

/// <summary>Options that may stand before or after the subcommand, as in the seed (<c>--device nucleo start …</c>).</summary>
public sealed class GlobalOptions
{
    public Option<string> Device { get; } = new("--device", "-d")
    {
        Description = "Logical device name from the gateway's device map",
        Recursive = true,
    };

    public Option<string> Selector { get; } = new("--selector", "-l")
    {
        Description = "Every device whose labels match, instead of one --device: key=value[,key=value…] (key!=value excludes); docs/fleet-ops.md",
        Recursive = true,
    };

    public Option<int> Parallel { get; } = new("--parallel")
    {
        Description = "With --selector: how many devices at a time (1-256)",
        Recursive = true,
        DefaultValueFactory = _ => Client.SelectorFanOut.DefaultParallel,
    };

    public Option<string> Gateway { get; } = new("--gateway")
    {
        Description = "Gateway address [tls://]host:port (default: $WASMORCH_GATEWAY, else 127.0.0.1:9000)",
        Recursive = true,
    };

    public Option<string> Token { get; } = new("--token")
    {
        Description = "Access token of a gateway that requires one (default: $WASMORCH_TOKEN)",
        Recursive = true,
    };

    public Option<string> TlsCa { get; } = new("--tls-ca")
    {
        Description = "With a tls:// gateway: PEM certificate(s) to trust, a private CA or the gateway's own (default: $WASMORCH_TLS_CA, else the system's store)",
        Recursive = true,
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print one JSON object per command, for scripts",
        Recursive = true,
    };

    public Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "More log output on stderr",
        Recursive = true,
    };

    public void AddTo(RootCommand root)
    {
        root.Options.Add(Device);
        root.Options.Add(Selector);
        root.Options.Add(Parallel);
        root.Options.Add(Gateway);
        root.Options.Add(Json);
        root.Options.Add(Token);
        root.Options.Add(TlsCa);
        root.Options.Add(Verbose);
    }
}
