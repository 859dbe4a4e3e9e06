using System.CommandLine;
using System.Globalization;
using Wasmorch.Emulator;
using Wasmorch.Emulator.Peripherals;
using Wasmorch.Protocol.Modules;
using Wasmorch.Gateway.Config;
using Wasmorch.Transport;

namespace Wasmorch.Cli.Commands;

public static class EmulateCommand
{
    public static Command Create(GlobalOptions global)
    {
        var boards = new Option<string[]>("--board", "-b") { Description = "name=port (TCP; 0 picks a free one) or name=serial:/dev/ttyX?baud=115200 (a tty, throttled to the baud rate); repeatable" };
        var config = new Option<FileInfo>("--config", "-c") { Description = "Serve the devices marked emulate = true in wasmorch.toml" };
        var bind = new Option<string>("--bind") { Description = "Address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
        var maxModule = new Option<int>("--max-module") { Description = "Largest module a board accepts, bytes", DefaultValueFactory = _ => 64 * 1024 };
        var grace = new Option<int>("--stop-grace-ms") { Description = "How long a stopped job may run on before it is terminated", DefaultValueFactory = _ => 500 };
        var allowAot = new Option<bool?>("--allow-aot") { Description = "Accept Wasmtime-precompiled (native) modules from authenticated peers (default true; false refuses them)" };
        var linkKey = new Option<string>("--link-key") { Description = "Link key file: only a peer proving it holds the key may drive the boards (default ~/.config/wasmorch/link.key, created if missing; \"off\" for open boards)" };
        var baseline = new Option<bool>("--baseline") { Description = "Act as a seed-baseline agent: answer HELLO with ERR, offer no extensions" };
        var xloadWindow = new Option<int>("--xload-window") { Description = "XLOAD window in bytes (docs/protocol.md 6b: compressed, resumable uploads); 0 offers no XLOAD", DefaultValueFactory = _ => 4096 };
        var caps = new Option<string>("--caps") { Description = "Capabilities offered to modules (docs/protocol.md 6c), comma-separated; \"none\" for none", DefaultValueFactory = _ => string.Join(',', Capabilities.Known.Where(BoardOptions.DefaultCaps.Contains)) };
        var temperature = new Option<string>("--temperature") { Description = "What the simulated TMP102 (I2C bus 0, 0x48) measures at start, degrees Celsius", DefaultValueFactory = _ => "22.5" };
        var adc = new Option<string>("--adc") { Description = "ADC channel 0's waveform: const:V or sine|ramp|square:MIN:MAX:PERIOD_MS (12-bit counts)", DefaultValueFactory = _ => "sine:1000:3000:2000" };
        var eventRate = new Option<int>("--event-rate") { Description = "Events a job may publish a second after its burst; more are dropped and counted", DefaultValueFactory = _ => 20 };
        var eventBurst = new Option<int>("--event-burst") { Description = "Events a job may publish at once", DefaultValueFactory = _ => 20 };
        var command = new Command("emulate", "Run emulated boards that speak the agent protocol over TCP") { boards, config, bind, maxModule, grace, baseline, allowAot, linkKey, xloadWindow, caps, temperature, adc, eventRate, eventBurst };
        global.Takes(command, GlobalUse.Verbose);
        command.SetAction(async (pr, ct) =>
        {
            List<(string Name, int Port, DeviceEndpoint? Serial)> specs;
            try
            {
                specs = Specs(pr.GetValue(boards) ?? [], pr.GetValue(config));
            }
            catch (ConfigException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}");
                return ExitCodes.Usage;
            }
            if (pr.GetValue(xloadWindow) is not 0 and (< 64 or > 1 << 20))
            {
                await Console.Error.WriteLineAsync($"error: --xload-window {pr.GetValue(xloadWindow)} is out of range (0, or 64 to 1048576 bytes)");
                return ExitCodes.Usage;
            }
            var peripherals = Peripherals(pr.GetValue(caps)!, pr.GetValue(temperature)!, pr.GetValue(adc)!, pr.GetValue(eventRate), pr.GetValue(eventBurst), out var peripheralError);
            if (peripherals is null)
            {
                await Console.Error.WriteLineAsync($"error: {peripheralError}");
                return ExitCodes.Usage;
            }
            if (specs.Count == 0)
            {
                await Console.Error.WriteLineAsync("error: no boards: give --board name=port or --config with emulate = true devices");
                return ExitCodes.Usage;
            }
            byte[]? key = null;
            // A seed-baseline agent knows no AUTH: its boards are open, as the seed's were.
            if (pr.GetValue(linkKey) is not "off" && !pr.GetValue(baseline))
            {
                try
                {
                    key = LinkKeyFile.LoadOrCreate(pr.GetValue(linkKey) ?? LinkKeyFile.DefaultPath());
                }
                catch (LinkKeyException ex)
                {
                    await Console.Error.WriteLineAsync($"error: {ex.Message}");
                    return ExitCodes.Usage;
                }
            }
            using var loggers = Logging.Create(pr.GetValue(global.Verbose));
            await using var host = new EmulatorHost(loggers);
            foreach (var (name, port, serial) in specs)
            {
                var options = peripherals with
                {
                    Name = name,
                    Port = port,
                    BindAddress = pr.GetValue(bind)!,
                    MaxModuleBytes = pr.GetValue(maxModule),
                    StopGracePeriod = TimeSpan.FromMilliseconds(pr.GetValue(grace)),
                    Baseline = pr.GetValue(baseline),
                    AllowPrecompiled = pr.GetValue(allowAot),
                    LinkKey = key,
                    XloadWindow = pr.GetValue(xloadWindow),
                };
                try
                {
                    if (serial is not null)
                    {
                        var server = host.AddSerialBoard(options, serial.Path, serial.Baud);
                        Console.WriteLine($"board {name} serving {server.Description}");
                        continue;
                    }
                    var tcp = host.AddBoard(options);
                    Console.WriteLine($"board {name} listening on tcp://{tcp.LocalEndpoint}");
                }
                catch (ArgumentException ex)
                {
                    await Console.Error.WriteLineAsync($"error: {ex.Message.Split(" (Parameter", 2)[0]}");
                    return ExitCodes.Usage;
                }
                catch (System.Net.Sockets.SocketException ex)
                {
                    await Console.Error.WriteLineAsync($"error: board {name}: cannot listen on port {port}: {ex.Message}");
                    return ExitCodes.Usage;
                }
            }
            Console.WriteLine("emulator ready");
            Console.Out.Flush();
            await GatewayCommand.WaitForShutdownAsync(ct);
            Console.WriteLine("emulator stopped");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The boards' peripherals from the options, each checked; null with <paramref name="error"/> naming the option.</summary>
    private static BoardOptions? Peripherals(string caps, string temperature, string adc, int eventRate, int eventBurst, out string? error)
    {
        var offered = caps == "none" ? [] : Capabilities.Parse(caps);
        if (offered.FirstOrDefault(c => !Capabilities.Known.Contains(c)) is { } unknown)
        {
            error = $"--caps: unknown capability '{unknown}' (known: {string.Join(",", Capabilities.Known)}, or none)";
            return null;
        }
        if (offered.Contains(Capabilities.I2c1))
        {
            error = "--caps: emulated boards have no i2c1 (the TMP102 is on i2c0)";
            return null;
        }
        if (!Tmp102.TryParseCelsius(temperature, out var milliC))
        {
            error = $"--temperature '{temperature}' is not a number of degrees Celsius from {Tmp102.CelsiusRange}";
            return null;
        }
        if (Waveform.Parse(adc, out error) is not { } waveform)
        {
            error = "--adc: " + error;
            return null;
        }
        if (eventRate is < 1 or > 10_000 || eventBurst is < 1 or > 10_000)
        {
            error = $"--event-rate {eventRate} and --event-burst {eventBurst} must each be 1 to 10000";
            return null;
        }
        return new BoardOptions
        {
            Name = "-",
            Caps = offered,
            TemperatureMilliC = milliC,
            AdcWaveform = waveform,
            EventsPerSecond = eventRate,
            EventBurst = eventBurst,
        };
    }

    private static List<(string, int, DeviceEndpoint?)> Specs(string[] boards, FileInfo? config)
    {
        var specs = new List<(string, int, DeviceEndpoint?)>();
        foreach (var spec in boards)
        {
            var eq = spec.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new ConfigException($"--board '{spec}' is not name=port or name=serial:/dev/ttyX?baud=N");
            }
            if (!Wasmorch.Protocol.Agent.ModuleId.IsValid(spec.AsSpan(0, eq)))
            {
                throw new ConfigException($"--board '{spec}': the name must match [A-Za-z0-9_.-]{{1,32}}");
            }
            var where = spec[(eq + 1)..];
            if (where.StartsWith("serial:", StringComparison.Ordinal))
            {
                if (!DeviceEndpoint.TryParse(where, out var serial, out var error) || serial.UsbId is not null)
                {
                    throw new ConfigException($"--board '{spec}': {(serial?.UsbId is not null ? "serve a tty by its path" : error)}");
                }
                specs.Add((spec[..eq], 0, serial));
                continue;
            }
            if (!int.TryParse(where, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
            {
                throw new ConfigException($"--board '{spec}' is not name=port or name=serial:/dev/ttyX?baud=N");
            }
            specs.Add((spec[..eq], port, null));
        }
        if (config is not null)
        {
            var settings = GatewayConfig.Load(config.FullName);
            foreach (var name in settings.Emulated.Order(StringComparer.Ordinal))
            {
                var endpoint = settings.Devices[name];
                if (endpoint.Kind != EndpointKind.Tcp)
                {
                    throw new ConfigException($"device {name}: only tcp:// endpoints can be emulated");
                }
                specs.Add((name, endpoint.Port, null));
            }
        }
        return specs;
    }
}
