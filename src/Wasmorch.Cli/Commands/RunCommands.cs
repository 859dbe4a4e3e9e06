using System.CommandLine;
using System.Diagnostics;
using Wasmorch.Cli.Client;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli.Commands;

/// <summary>
/// The one-command loop (docs/run.md): <c>run</c> builds, deploys (skipped when unchanged), starts
/// and waits for the result; <c>watch</c> does the same on every save of the source or a header it
/// includes. Both on one --device or every device a --selector matches.
/// </summary>
public static class RunCommands
{
    /// <summary>Quiet time after a change before a pass starts: an editor's save is often several writes.</summary>
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(30);

    private sealed class Shared
    {
        public Argument<FileInfo> File { get; } = new("file") { Description = "Source (C, C++, Rust, AssemblyScript; compiled on the gateway) or a compiled .wasm/.aot module" };

        public Argument<string> Func { get; } = new("function") { Description = "The exported function to run" };

        public Argument<string[]> Args { get; } = new("args") { Description = "Its arguments, positional (put -- before negative numbers)", Arity = ArgumentArity.ZeroOrMore };

        public Option<string> ModuleId { get; } = new("--module-id", "-m") { Description = "Module id (default: the file's name, e.g. math_ops)" };

        public Option<int> Timeout { get; } = new("--timeout-ms") { Description = "Give up waiting for the result after this long (the job goes on)", DefaultValueFactory = _ => 60_000 };

        public BuildFlags Build { get; } = new();

        public Option<string> Mode { get; } = new("--mode") { Description = "wasm, or aot (precompiled on the gateway for the device's target)", DefaultValueFactory = _ => "wasm" };

        public void AddTo(Command command)
        {
            command.Arguments.Add(File);
            command.Arguments.Add(Func);
            command.Arguments.Add(Args);
            command.Options.Add(ModuleId);
            command.Options.Add(Timeout);
            command.Options.Add(Mode);
            Mode.AcceptOnlyFromAmong("wasm", "aot");
            Build.AddTo(command);
        }
    }

    public static IEnumerable<Command> Create(GlobalOptions global)
    {
        yield return Run(global);
        yield return Watch(global);
    }

    private static Command Run(GlobalOptions global)
    {
        var shared = new Shared();
        var command = new Command("run", "Build, deploy (skipped when the device holds it), start a function and print its result with the latency breakdown: wasmorch -d nucleo run math_ops.c add 10 15");
        shared.AddTo(command);
        global.Takes(command, GlobalUse.Devices);
        command.SetAction((pr, ct) => DeviceCommands.Guarded(async () =>
        {
            var printer = new ResponsePrinter(Console.Out, Console.Error, pr.GetValue(global.Json));
            var (targets, loop, deployCommand) = Prepare(pr, global, shared, "run", printer);
            return await PassAsync(targets, loop, printer, deployCommand, null, ct);
        }));
        return command;
    }

    private static Command Watch(GlobalOptions global)
    {
        var shared = new Shared();
        var command = new Command("watch", "run, again on every save of the source or a header it includes; a compile error leaves the previous module running; Ctrl-C stops the job it started");
        shared.AddTo(command);
        global.Takes(command, GlobalUse.Devices);
        command.SetAction((pr, ct) => DeviceCommands.Guarded(async () =>
        {
            var printer = new ResponsePrinter(Console.Out, Console.Error, pr.GetValue(global.Json));
            var (targets, loop, deployCommand) = Prepare(pr, global, shared, "watch", printer);
            var source = pr.GetValue(shared.File)!;
            // Ctrl-C (and SIGTERM) end the watch through its token, so that it can leave the boards
            // in a known state, rather than end the process where it stands.
            using var interrupted = CancellationTokenSource.CreateLinkedTokenSource(ct);
            void Interrupt(System.Runtime.InteropServices.PosixSignalContext signal)
            {
                signal.Cancel = true;
                interrupted.Cancel();
            }
            using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Interrupt);
            using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Interrupt);
            var language = SourceSet.LanguageOf(source, shared.Build.Lang(pr));
            return await WatchAsync(source, language, targets, loop, printer, deployCommand, interrupted.Token);
        }));
        return command;
    }

    /// <summary>The devices to run on, and how to reach the gateway.</summary>
    private sealed record Targets(string? Device, Selector? Selector, GatewayAddress Address, string? TlsCa, int Parallel, TimeSpan Timeout);

    private static (Targets, EditLoop, string) Prepare(ParseResult pr, GlobalOptions global, Shared shared, string name, ResponsePrinter printer)
    {
        var file = pr.GetValue(shared.File)!;
        var (device, selector) = DeviceCommands.Targets(pr, global, name);
        // Checked with --device too: every pass takes its lanes from it.
        if (pr.GetValue(global.Parallel) is < 1 or > 256)
        {
            throw new UsageException($"--parallel {pr.GetValue(global.Parallel)} is out of range (1 to 256)");
        }
        if (FleetAddress.TryParse(pr.GetValue(global.Gateway), out _))
        {
            throw new UsageException("run and watch talk to a gateway (--gateway host:port); any gateway of a fleet reaches every device");
        }
        if (!GatewayAddress.TryResolve(pr.GetValue(global.Gateway), out var address, out var addressError))
        {
            throw new UsageException(addressError);
        }
        if (!file.Exists)
        {
            throw new UsageException($"{file}: no such file");
        }
        var language = SourceSet.LanguageOf(file, shared.Build.Lang(pr));
        var isSource = language is not null;
        var moduleId = pr.GetValue(shared.ModuleId) ?? SourcePaths.ModuleIdOf(file.Name);
        var mode = pr.GetValue(shared.Mode);
        var token = pr.GetValue(global.Token) ?? Environment.GetEnvironmentVariable("WASMORCH_TOKEN");
        var timeoutMs = pr.GetValue(shared.Timeout);
        var tlsCa = pr.GetValue(global.TlsCa);
        var func = pr.GetValue(shared.Func)!;
        var loop = new EditLoop
        {
            ModuleId = moduleId,
            Func = func,
            WhileWaiting = (device, ct) => WaitingJob.FollowAsync(address, tlsCa, token, device, moduleId, func, printer, ct),
            Args = pr.GetValue(shared.Args) is { Length: > 0 } args ? string.Join(',', args) : null,
            Token = token,
            TimeoutMs = timeoutMs,
            Deploy = async ct =>
            {
                if (!isSource)
                {
                    return new HostRequest { Op = HostOps.Deploy, ModuleId = moduleId, Module = Convert.ToBase64String(await DeviceCommands.ReadInputAsync(file, File.ReadAllBytesAsync, ct)), Mode = mode };
                }
                var set = await DeviceCommands.ReadInputAsync(file, (p, c) => SourceSet.ReadAsync(new FileInfo(p), language!, bundleHeaders: true, c), ct);
                var request = new HostRequest { Op = HostOps.BuildAndDeploy, ModuleId = moduleId, Source = set.Text, Files = set.Files, SourceName = SourcePaths.FileName(file.Name), Mode = mode };
                shared.Build.Apply(pr, file, request);
                return request;
            },
        };
        var targets = new Targets(device, selector, address, pr.GetValue(global.TlsCa), pr.GetValue(global.Parallel), TimeSpan.FromMilliseconds(timeoutMs) + TimeSpan.FromMinutes(5));

        return (targets, loop, isSource ? "build-and-deploy" : "deploy");
    }

    /// <summary>One pass on every target device, each over its own connection; the worst exit code.</summary>
    private static async Task<int> PassAsync(Targets targets, EditLoop loop, ResponsePrinter printer, string deployCommand, Stopwatch? sinceSave, CancellationToken ct)
    {
        var devices = targets.Device is { } one ? [one] : await MatchAsync(targets, loop.Token, ct);
        var worst = ExitCodes.Ok;
        var ok = 0;
        using var lanes = new SemaphoreSlim(targets.Parallel);
        await Task.WhenAll(devices.Select(async device =>
        {
            await lanes.WaitAsync(ct);
            try
            {
                await using var client = await GatewayClient.ConnectAsync(targets.Address, ct, targets.TlsCa);
                var pass = await loop.RunAsync((r, c) => client.SendAsync(r, targets.Timeout, c), device, ct);
                var exit = printer.PrintRun(pass, deployCommand, sinceSave?.Elapsed);
                lock (lanes)
                {
                    worst = Math.Max(worst, exit);
                    ok += exit == ExitCodes.Ok ? 1 : 0;
                }
            }
            finally
            {
                lanes.Release();
            }
        }));
        if (targets.Selector is { } selector)
        {
            printer.PrintSummary("run", selector.Text, devices.Count, ok, devices.Count - ok, worst);
        }
        return worst;
    }

    private static async Task<List<string>> MatchAsync(Targets targets, string? token, CancellationToken ct)
    {
        await using var client = await GatewayClient.ConnectAsync(targets.Address, ct, targets.TlsCa);
        var (listing, _) = await client.SendAsync(new HostRequest { Op = HostOps.Devices, Token = token }, TimeSpan.FromSeconds(30), ct);
        if (!listing.Ok)
        {
            throw new UsageException($"cannot list the gateway's devices: {listing.Error!.Code}: {listing.Error.Message}");
        }
        return SelectorFanOut.Match(targets.Selector!, listing.Devices ?? []);
    }

    /// <param name="language">The source's language (null: a module file, watched alone).</param>
    private static async Task<int> WatchAsync(FileInfo source, Wasmorch.Gateway.Build.SourceLanguage? language, Targets targets, EditLoop loop, ResponsePrinter printer, string deployCommand, CancellationToken ct)
    {
        var changes = System.Threading.Channels.Channel.CreateUnbounded<string>();
        var watchers = new List<FileSystemWatcher>();
        var watched = new HashSet<string>(StringComparer.Ordinal);
        async Task WatchFilesAsync()
        {
            // The files to watch are the source and the headers it includes (the files a Rust module
            // mods, an AssemblyScript module imports) now: an edit may add one.
            var files = language is not null
                ? (await DeviceCommands.ReadInputAsync(source, (p, c) => SourceSet.ReadAsync(new FileInfo(p), language, bundleHeaders: true, c), ct)).Watched
                : [source.FullName];
            lock (watched)
            {
                foreach (var folder in files.Select(f => Path.GetDirectoryName(f)!).Distinct().Where(folder => !watchers.Any(w => w.Path == folder)))
                {
                    var watcher = new FileSystemWatcher(folder) { NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size };
                    FileSystemEventHandler changed = (_, e) =>
                    {
                        bool mine;
                        lock (watched)
                        {
                            mine = watched.Contains(e.FullPath);
                        }
                        if (mine)
                        {
                            changes.Writer.TryWrite(e.FullPath);
                        }
                    };
                    watcher.Changed += changed;
                    watcher.Created += changed;
                    // Editors save by writing a temporary file and renaming it over the source.
                    watcher.Renamed += (s, e) => changed(s, e);
                    watcher.EnableRaisingEvents = true;
                    watchers.Add(watcher);
                }
                watched.Clear();
                watched.UnionWith(files);
            }
        }

        var current = Task.CompletedTask;
        CancellationTokenSource? passStop = null;
        void StartPass(Stopwatch? sinceSave)
        {
            // A pass still waiting for its result when the next save comes is given up (its job is
            // stopped by the next pass, which finds the device BUSY with it).
            passStop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var token = passStop.Token;
            current = RunGuardedAsync(() => PassAsync(targets, loop, printer, deployCommand, sinceSave, token), token);
        }
        async Task EndPassAsync()
        {
            if (passStop is not null)
            {
                await passStop.CancelAsync();
                await current;
                passStop.Dispose();
                passStop = null;
            }
        }

        var interrupted = false;
        try
        {
            await WatchFilesAsync();
            var others = language == Wasmorch.Gateway.Build.SourceLanguage.Rust ? "file(s) it mods"
                : language == Wasmorch.Gateway.Build.SourceLanguage.AssemblyScript ? "file(s) it imports"
                : "header(s) it includes";
            Console.Out.WriteLine($"watching {source.Name}{(watched.Count > 1 ? $" and {watched.Count - 1} {others}" : "")}; Ctrl-C stops");
            StartPass(null);
            while (true)
            {
                var changed = await changes.Reader.ReadAsync(ct);
                var sinceSave = Stopwatch.StartNew();
                // Quiet time: the rest of this save's writes are part of the same change.
                while (await WaitForAsync(changes.Reader, Debounce, ct))
                {
                    while (changes.Reader.TryRead(out var more))
                    {
                        changed = more;
                    }
                }
                await EndPassAsync();
                Console.Out.WriteLine($"-- {DateTime.Now:HH:mm:ss.fff} {Path.GetRelativePath(source.DirectoryName!, changed)} changed");
                await RunGuardedAsync(WatchFilesAsync, ct);
                StartPass(sinceSave);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            interrupted = true;
        }
        finally
        {
            await EndPassAsync();
            foreach (var watcher in watchers)
            {
                watcher.Dispose();
            }
        }
        return interrupted ? await LeaveKnownStateAsync(targets, loop) : ExitCodes.Ok;
    }

    /// <summary>
    /// A pass that fails (the gateway away, a file unreadable) is reported and the watch goes on;
    /// one given up (<paramref name="superseded"/>: a newer save, or Ctrl-C) ends quietly.
    /// </summary>
    private static async Task RunGuardedAsync(Func<Task> pass, CancellationToken superseded)
    {
        try
        {
            await pass();
        }
        catch (OperationCanceledException) when (superseded.IsCancellationRequested)
        {
            // Given up on purpose: the next pass (or the stop after Ctrl-C) takes over the board.
        }
        catch (Exception ex) when (ex is UsageException or GatewayUnreachableException or IOException)
        {
            await Console.Error.WriteLineAsync($"error: {TerminalText.Block(ex.Message)}");
        }
    }

    private static async Task<bool> WaitForAsync(System.Threading.Channels.ChannelReader<string> reader, TimeSpan quiet, CancellationToken ct)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timer.CancelAfter(quiet);
        try
        {
            return await reader.WaitToReadAsync(timer.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>After Ctrl-C: a job this watch started and that still runs is stopped, so the boards are idle with the last module loaded.</summary>
    private static async Task<int> LeaveKnownStateAsync(Targets targets, EditLoop loop)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            var devices = targets.Device is { } one ? [one] : await MatchAsync(targets, loop.Token, limit.Token);
            await using var client = await GatewayClient.ConnectAsync(targets.Address, limit.Token, targets.TlsCa);
            foreach (var device in devices)
            {
                var stopped = await loop.StopOwnJobAsync((r, c) => client.SendAsync(r, TimeSpan.FromSeconds(10), c), device, limit.Token);
                Console.Out.WriteLine($"{device}: {loop.ModuleId} {(stopped ? "stopped" : "not running")}; the board is idle with it loaded");
            }
            return ExitCodes.Ok;
        }
        catch (Exception ex) when (ex is GatewayUnreachableException or OperationCanceledException or UsageException)
        {
            await Console.Error.WriteLineAsync($"error: could not stop {loop.ModuleId}'s job: {TerminalText.Block(ex.Message)}");
            return ExitCodes.GatewayUnreachable;
        }
    }
}
