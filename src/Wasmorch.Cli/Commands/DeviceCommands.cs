using System.CommandLine;
using Wasmorch.Cli.Client;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli.Commands;

/// <summary>The seed's commands: deploy, build-and-deploy, start, stop, status (plus devices).</summary>
public static class DeviceCommands
{
    public static IEnumerable<Command> Create(GlobalOptions global)
    {
        yield return Deploy(global);
        yield return BuildAndDeploy(global);
        yield return Start(global);
        yield return Stop(global);
        yield return Status(global);
        yield return Devices(global);
        yield return Jobs(global);
        yield return Ping(global);
        yield return Unload(global);
        yield return History(global);
        yield return Rollback(global);
        yield return LogsCommand.Create(global);
    }

    private static Command History(GlobalOptions global)
    {
        var moduleId = ModuleIdOption();
        var command = new Command("history", "The versions of a module id the gateway deployed, newest first, with the devices holding each (--device: its versions only)") { moduleId };
        global.Takes(command, GlobalUse.Device | GlobalUse.GatewayOnly);
        command.SetAction((pr, ct) => Run(pr, global, "history", () => Task.FromResult(new HostRequest { Op = HostOps.History, ModuleId = pr.GetValue(moduleId) }), TimeSpan.FromSeconds(30), ct, needsDevice: false));
        return command;
    }

    private static Command Rollback(GlobalOptions global)
    {
        var moduleId = ModuleIdOption();
        var to = new Option<int?>("--to") { Description = "The version to put back (default: the one before the device's current; history lists them)" };
        var command = new Command("rollback", "Put the previous version of a module back on a device (or --selector's), from the gateway's record: nothing is rebuilt") { moduleId, to };
        global.Takes(command, GlobalUse.Devices);
        command.SetAction((pr, ct) => Run(pr, global, "rollback", () => Task.FromResult(new HostRequest { Op = HostOps.Rollback, ModuleId = pr.GetValue(moduleId), Version = pr.GetValue(to) }), TimeSpan.FromSeconds(120), ct));
        return command;
    }

    private static Command Ping(GlobalOptions global)
    {
        var command = new Command("ping", "Check that a device answers (PING where offered, else STATUS)");
        global.Takes(command, GlobalUse.Devices);
        command.SetAction((pr, ct) => Run(pr, global, "ping", () => Task.FromResult(new HostRequest { Op = HostOps.Ping }), TimeSpan.FromSeconds(30), ct));
        return command;
    }

    private static Command Unload(GlobalOptions global)
    {
        var moduleId = ModuleIdOption();
        var command = new Command("unload", "Remove an idle module from a device (agents offering UNLOAD)") { moduleId };
        global.Takes(command, GlobalUse.Devices);
        command.SetAction((pr, ct) => Run(pr, global, "unload", () => Task.FromResult(new HostRequest { Op = HostOps.Unload, ModuleId = pr.GetValue(moduleId) }), TimeSpan.FromSeconds(30), ct));
        return command;
    }

    private static Option<string> ModuleIdOption() => new("--module-id", "-m") { Description = "Module id ([A-Za-z0-9_.-]{1,32})", Required = true };

    private static Option<string> ModeOption()
    {
        var mode = new Option<string>("--mode")
        {
            Description = "wasm (the device compiles or interprets it) or aot (precompiled here for the device's target)",
            DefaultValueFactory = _ => "wasm",
        };
        mode.AcceptOnlyFromAmong("wasm", "aot");
        return mode;
    }

    private static Command Deploy(GlobalOptions global)
    {
        var moduleId = ModuleIdOption();
        var file = new Option<FileInfo>("--file", "-f") { Description = "The .wasm (or .aot) file to upload", Required = true };
        var mode = ModeOption();
        var force = ForceOption();
        var signKey = SignKeyOption();
        var command = new Command("deploy", "Upload a compiled module to a device") { moduleId, file, mode, force, signKey };
        global.Takes(command, GlobalUse.Devices);
        command.SetAction((pr, ct) => Run(pr, global, "deploy", async () =>
        {
            var path = pr.GetValue(file)!;
            // Base64 makes 3 bytes 4: what fits a request line of the host API.
            CheckSize(path, HostJson.MaxRequestBytes / 4 * 3 - 4096, "module");
            var bytes = await ReadInputAsync(path, File.ReadAllBytesAsync, ct);
            return new HostRequest
            {
                Op = HostOps.Deploy,
                ModuleId = pr.GetValue(moduleId),
                Module = Convert.ToBase64String(bytes),
                Mode = pr.GetValue(mode),
                Force = pr.GetValue(force),
            };
        }, TimeSpan.FromMinutes(5), ct, signKey: pr.GetValue(signKey)));
        return command;
    }

    private static Command BuildAndDeploy(GlobalOptions global)
    {
        var moduleId = ModuleIdOption();
        var source = new Option<FileInfo>("--source", "-s") { Description = "Source file (C, C++, Rust, AssemblyScript: by extension or --lang); the gateway compiles it", Required = true };
        var mode = ModeOption();
        var force = ForceOption();
        var signKey = SignKeyOption();
        var build = new BuildFlags();
        var command = new Command("build-and-deploy", "Compile a source (C, C++, Rust, AssemblyScript) on the gateway and upload the module to a device") { moduleId, source, mode, force, signKey };
        global.Takes(command, GlobalUse.Devices);
        build.AddTo(command);
        command.SetAction((pr, ct) => Run(pr, global, "build-and-deploy", async () =>
        {
            var path = pr.GetValue(source)!;
            CheckSize(path, HostJson.MaxRequestBytes - 4096, "source");
            // C is sent as it is (the gateway's include path has wasmorch.h); Rust and AssemblyScript
            // with the files they mod or import beside them. A file of no known language goes as C.
            var language = SourceSet.LanguageOf(path, build.Lang(pr)) ?? Wasmorch.Gateway.Build.SourceLanguage.C;
            var set = await ReadInputAsync(path, (p, c) => SourceSet.ReadAsync(new FileInfo(p), language, bundleHeaders: false, c), ct);
            var request = new HostRequest
            {
                Op = HostOps.BuildAndDeploy,
                ModuleId = pr.GetValue(moduleId),
                Source = set.Text,
                Files = set.Files,
                SourceName = SourcePaths.FileName(path.Name),
                Mode = pr.GetValue(mode),
                Force = pr.GetValue(force),
            };
            build.Apply(pr, path, request);
            return request;
        }, TimeSpan.FromMinutes(5), ct, signKey: pr.GetValue(signKey)));
        return command;
    }

    private static Option<FileInfo> SignKeyOption() => new("--sign-key") { Description = "Sign the deploy (device, module id, mode, build options and the content's SHA-256) with this Ed25519 private key (from `wasmorch keygen`)" };

    /// <summary>Signs the request's <see cref="DeployStatement"/>: its content and everything that decides what lands where.</summary>
    private static async Task<string> SignAsync(FileInfo key, HostRequest request, CancellationToken ct)
    {
        var text = await ReadInputAsync(key, (p, c) => File.ReadAllTextAsync(p, c), ct);
        var content = request.Op == HostOps.BuildAndDeploy
            ? System.Text.Encoding.UTF8.GetBytes(request.Source ?? "")
            : Convert.FromBase64String(request.Module ?? "");
        try
        {
            return Wasmorch.Gateway.Signing.ModuleSignatures.Sign(text, DeployStatement.For(request, content));
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"{key}: {ex.Message}");
        }
    }

    private static Option<bool> ForceOption() => new("--force") { Description = "Upload even if the device already holds this module (same id and CRC)" };

    private static Command Start(GlobalOptions global)
    {
        var moduleId = ModuleIdOption();
        var func = new Option<string>("--func-name", "-F") { Description = "Exported function to run", Required = true };
        var args = new Option<string>("--func-args", "-a") { Description = "Arguments, positional: \"a=10,b=15\" or \"10,15\"" };
        var wait = new Option<bool>("--wait-result", "-w") { Description = "Wait for the job's RESULT and print its value" };
        var timeout = new Option<int>("--timeout-ms") { Description = "With --wait-result: give up waiting after this long (the job goes on)", DefaultValueFactory = _ => 60_000 };
        var command = new Command("start", "Run an exported function as a job on a device") { moduleId, func, args, wait, timeout };
        global.Takes(command, GlobalUse.Devices);
        command.SetAction((pr, ct) => Run(pr, global, "start", () => Task.FromResult(new HostRequest
        {
            Op = HostOps.Start,
            ModuleId = pr.GetValue(moduleId),
            Func = pr.GetValue(func),
            Args = pr.GetValue(args),
            WaitResult = pr.GetValue(wait),
            TimeoutMs = pr.GetValue(timeout),
        }), TimeSpan.FromMilliseconds(pr.GetValue(timeout)) + TimeSpan.FromSeconds(30), ct));
        return command;
    }

    private static Command Stop(GlobalOptions global)
    {
        var moduleId = ModuleIdOption();
        var command = new Command("stop", "Ask a module's running job to stop (cooperative, then forced)") { moduleId };
        global.Takes(command, GlobalUse.Devices);
        command.SetAction((pr, ct) => Run(pr, global, "stop", () => Task.FromResult(new HostRequest
        {
            Op = HostOps.Stop,
            ModuleId = pr.GetValue(moduleId),
        }), TimeSpan.FromSeconds(30), ct));
        return command;
    }

    private static Command Status(GlobalOptions global)
    {
        var command = new Command("status", "Show a device's state: running job, loaded modules, uptime, GPIO");
        global.Takes(command, GlobalUse.Devices);
        command.SetAction((pr, ct) => Run(pr, global, "status", () => Task.FromResult(new HostRequest { Op = HostOps.Status }), TimeSpan.FromSeconds(30), ct));
        return command;
    }

    private static Command Devices(GlobalOptions global)
    {
        var scan = new Option<bool>("--scan") { Description = "List the serial ports on the gateway's machine, with USB identities and endpoints to use" };
        var command = new Command("devices", "List the gateway's devices and whether each is connected") { scan };
        global.Takes(command, GlobalUse.GatewayOnly);
        command.SetAction((pr, ct) => Run(pr, global, pr.GetValue(scan) ? "scan" : "devices",
            () => Task.FromResult(new HostRequest { Op = pr.GetValue(scan) ? HostOps.Scan : HostOps.Devices }), TimeSpan.FromSeconds(30), ct, needsDevice: false));
        return command;
    }

    private static Command Jobs(GlobalOptions global)
    {
        var limit = new Option<int>("--limit", "-n") { Description = "How many, newest first (at most 1000)", DefaultValueFactory = _ => 20 };
        var command = new Command("jobs", "The gateway's job history (all devices, or --device's), kept across gateway restarts") { limit };
        global.Takes(command, GlobalUse.Device | GlobalUse.GatewayOnly);
        command.SetAction((pr, ct) => Run(pr, global, "jobs",
            () => Task.FromResult(new HostRequest { Op = HostOps.Jobs, Limit = pr.GetValue(limit) }), TimeSpan.FromSeconds(30), ct, needsDevice: false));
        return command;
    }

    /// <summary>Refuses a file too large for any gateway before a byte is sent (a gateway's own limit may be lower still).</summary>
    private static void CheckSize(FileInfo path, long max, string what)
    {
        if (path.Exists && path.Length > max)
        {
            throw new UsageException($"{path}: {path.Length} bytes is more {what} than a request to a gateway can carry ({max} bytes at most; gateways take 262144 unless configured otherwise)");
        }
    }

    internal static async Task<T> ReadInputAsync<T>(FileInfo path, Func<string, CancellationToken, Task<T>> read, CancellationToken ct)
    {
        try
        {
            return await read(path.FullName, ct);
        }
        catch (SourceRefusedException ex)
        {
            // Readable, but not to be sent: the message names the include and why.
            throw new UsageException(ex.Message);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot read {path}: {ex.Message}");
        }
    }

    /// <summary>The command on every device <paramref name="selector"/> matches, through one connection per parallel lane.</summary>
    private static async Task<int> RunOnSelectedAsync(string name, Selector selector, HostRequest request, FleetAddress? fleet, GatewayAddress address, string? tlsCa,
        int parallel, TimeSpan timeout, ResponsePrinter printer, FileInfo? signKey, CancellationToken ct)
    {
        var clients = new List<GatewayClient>();
        try
        {
            return await SelectorFanOut.RunAsync(name, selector, request, parallel, async connectCt =>
            {
                if (fleet is not null)
                {
                    return r => FleetClient.SendAsync(fleet, r, ct);
                }
                var client = await GatewayClient.ConnectAsync(address, connectCt, tlsCa);
                lock (clients)
                {
                    clients.Add(client);
                }
                return r => client.SendAsync(r, timeout, ct);
            }, printer, ct, signKey is null ? null : async r => r.Signature = await SignAsync(signKey, r, ct));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// The one --device, or the parsed --selector, a command runs on (each checked: not both, a
    /// selector that parses, --parallel in range); <paramref name="takesSelector"/>: the command
    /// sends the selector itself (rollout) instead of running once per match.
    /// </summary>
    internal static (string? Device, Selector? Selector) Targets(ParseResult pr, GlobalOptions global, string name, bool needsDevice = true, bool takesSelector = false)
    {
        var device = pr.GetValue(global.Device);
        var selectorText = takesSelector ? null : pr.GetValue(global.Selector);
        Selector? selector = null;
        if (selectorText is not null)
        {
            if (!needsDevice || device is not null)
            {
                throw new UsageException(needsDevice ? "give --device or --selector, not both" : $"{name} does not take --selector");
            }
            if (!Selector.TryParse(selectorText, out selector, out var selectorError))
            {
                throw new UsageException(selectorError!);
            }
            if (pr.GetValue(global.Parallel) is < 1 or > 256)
            {
                throw new UsageException($"--parallel {pr.GetValue(global.Parallel)} is out of range (1 to 256)");
            }
        }
        else if (needsDevice && string.IsNullOrEmpty(device))
        {
            throw new UsageException($"{name} needs --device <name> or --selector <labels>");
        }
        return (device, selector);
    }

    /// <summary>Runs a command's action; a usage error or an unreachable gateway is one line on stderr and its exit code.</summary>
    internal static async Task<int> Guarded(Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (UsageException ex)
        {
            await Console.Error.WriteLineAsync($"error: {TerminalText.Block(ex.Message)}");
            return ExitCodes.Usage;
        }
        catch (GatewayUnreachableException ex)
        {
            await Console.Error.WriteLineAsync($"error: {TerminalText.Block(ex.Message)}");
            return ExitCodes.GatewayUnreachable;
        }
    }

    /// <summary>One request to the gateway or the fleet, its answer printed.</summary>
    /// <param name="exitOf">The exit code of a successful answer (default 0).</param>
    /// <param name="then">After a successful answer: more requests on the same connection (rollout start --wait follows the rollout); its exit code is the command's.</param>
    /// <param name="trim">Cuts a successful answer before it is printed (logs --limit).</param>
    internal static Task<int> Run(ParseResult pr, GlobalOptions global, string name, Func<Task<HostRequest>> build, TimeSpan timeout, CancellationToken ct, bool needsDevice = true, FileInfo? signKey = null, bool takesSelector = false,
        Func<HostResponse, int>? exitOf = null, Func<HostResponse, Func<HostRequest, Task<(HostResponse Response, TimeSpan Latency)>>, ResponsePrinter, Task<int>>? then = null,
        Action<HostResponse>? trim = null) =>
        Guarded(async () =>
        {
            var printer = new ResponsePrinter(Console.Out, Console.Error, pr.GetValue(global.Json));
            var (device, selector) = Targets(pr, global, name, needsDevice, takesSelector);
            var fleetAddress = FleetAddress.TryParse(pr.GetValue(global.Gateway), out var inFleet) ? inFleet : null;
            GatewayAddress address = GatewayAddress.Default;
            if (fleetAddress is null && !GatewayAddress.TryResolve(pr.GetValue(global.Gateway), out address, out var addressError))
            {
                throw new UsageException(addressError);
            }
            var request = await build();
            request.Device = device;
            // Fanned out, each device's copy is signed for that device.
            if (signKey is not null && selector is null)
            {
                request.Signature = await SignAsync(signKey, request, ct);
            }
            request.Token = pr.GetValue(global.Token) ?? Environment.GetEnvironmentVariable("WASMORCH_TOKEN");
            // Recorded with each module version a deploy makes (history shows it).
            request.By = $"{Environment.UserName}@{Environment.MachineName}";
            if (selector is not null)
            {
                return await RunOnSelectedAsync(name, selector, request, fleetAddress, address, pr.GetValue(global.TlsCa), pr.GetValue(global.Parallel), timeout, printer, signKey, ct);
            }
            if (fleetAddress is not null)
            {
                var (answer, took) = await FleetClient.SendAsync(fleetAddress, request, ct);
                if (HeldModules.Apply(request, answer))
                {
                    await HeldModules.AddAsync(request, answer, next => FleetClient.SendAsync(fleetAddress, Authorized(next, request), ct));
                }
                if (answer.Ok)
                {
                    trim?.Invoke(answer);
                }
                var printed = printer.Print(name, answer, took, exitOf);
                return then is null || !answer.Ok ? printed
                    : await then(answer, next => FleetClient.SendAsync(fleetAddress, Authorized(next, request), ct), printer);
            }
            await using var client = await GatewayClient.ConnectAsync(address, ct, pr.GetValue(global.TlsCa));
            ProgressBar? bar = null;
            if (request.Op is HostOps.Deploy or HostOps.BuildAndDeploy && ProgressBar.Wanted(pr.GetValue(global.Json)))
            {
                request.Progress = true;
                bar = new ProgressBar(Console.Out, $"uploading {request.ModuleId} to {device}");
            }
            var (response, latency) = await client.SendAsync(request, timeout, ct, bar is null ? null : bar.Update);
            bar?.Finish();
            if (HeldModules.Apply(request, response))
            {
                await HeldModules.AddAsync(request, response, next => client.SendAsync(Authorized(next, request), timeout, ct));
            }
            if (response.Ok)
            {
                trim?.Invoke(response);
            }
            var exit = printer.Print(name, response, latency, exitOf);
            return then is null || !response.Ok ? exit
                : await then(response, next => client.SendAsync(Authorized(next, request), timeout, ct), printer);
        });

    /// <summary>A follow-up request carries the first one's token and author.</summary>
    private static HostRequest Authorized(HostRequest next, HostRequest first)
    {
        next.Token = first.Token;
        next.By = first.By;
        return next;
    }
}

public sealed class UsageException : Exception
{
    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException()
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
