using System.Net;
using System.CommandLine;
using Wasmorch.Gateway;
using Wasmorch.Gateway.Config;

namespace Wasmorch.Cli.Commands;

public static class GatewayCommand
{
    public static Command Create(GlobalOptions global)
    {
        var port = new Option<int?>("--port", "-p") { Description = "TCP port for hosts (default 9000; 0 picks a free one)" };
        var bind = new Option<string>("--bind") { Description = "Address to listen on (default 127.0.0.1)" };
        var config = new Option<FileInfo>("--config", "-c") { Description = "Device map and settings (wasmorch.toml)" };
        var devices = new Option<string[]>("--add-device") { Description = "Extra device name=endpoint (tcp://host:port); repeatable", AllowMultipleArgumentsPerToken = false };
        var insecure = new Option<bool>("--insecure") { Description = "Listen on a non-loopback address without a token (trusted networks only)" };
        var wamrc = new Option<string>("--wamrc") { Description = "wamrc to use for AOT on WAMR devices (default: [build] wamrc, else wamrc on PATH)" };
        var state = new Option<string>("--state") { Description = "SQLite state file (default ~/.local/state/wasmorch/gateway-<port>.db; \"off\" keeps none)" };
        var tlsCert = new Option<string>("--tls-cert") { Description = "Serve the host API over TLS with this PEM certificate (with --tls-key)" };
        var tlsKey = new Option<string>("--tls-key") { Description = "PEM private key of --tls-cert" };
        var linkKey = new Option<string>("--link-key") { Description = "Link key file shared with the devices (default ~/.config/wasmorch/link.key, created if missing; \"off\" for none)" };
        var nats = new Option<string>("--nats") { Description = "Join the fleet on this NATS server (nats://host:4222; [fleet] nats); docs/fleet.md" };
        var name = new Option<string>("--name") { Description = "This gateway's name in the fleet, unique in it ([fleet] name)" };
        var otlp = new Option<string>("--otlp") { Description = "Send traces (a span per request: compile, aot, transfer, device verify, device execution) to this OTLP/HTTP collector ([gateway] otlp)" };
        var http = new Option<string>("--http") { Description = "Also serve the host API over HTTP on address:port, with /openapi.json and live streams ([gateway] http); docs/http.md" };
        var fleet = new Option<string>("--fleet") { Description = "The fleet's name, so fleets can share a NATS server ([fleet] fleet; default \"default\")" };
        var fleetInsecure = new Option<bool>("--fleet-insecure") { Description = "DEVELOPMENT ONLY: join a NATS server that lets anyone in, with no fleet keys ([fleet] insecure_dev); docs/fleet.md" };
        var checkConfig = new Option<bool>("--check-config") { Description = "Check the configuration (keys, devices, listening, state, cache, link key, TLS, tools), print one line per check and exit: 0, or 2 when something is wrong" };
        var command = new Command("gateway", "Run the gateway: host API, device sessions, compiler") { port, bind, config, devices, wamrc, insecure, state, tlsCert, tlsKey, linkKey, nats, name, fleet, fleetInsecure, http, otlp, checkConfig };
        global.Takes(command, GlobalUse.Verbose);
        command.SetAction(async (pr, ct) =>
        {
            GatewayConfig settings;
            try
            {
                settings = pr.GetValue(config) is { } file ? GatewayConfig.Load(file.FullName) : new GatewayConfig();
                foreach (var spec in pr.GetValue(devices) ?? [])
                {
                    var eq = spec.IndexOf('=', StringComparison.Ordinal);
                    if (eq <= 0)
                    {
                        throw new ConfigException($"--add-device '{spec}' is not name=endpoint");
                    }
                    settings.AddDevice(spec[..eq], spec[(eq + 1)..], "--add-device");
                }
            }
            catch (ConfigException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}");
                return ExitCodes.Usage;
            }
            settings.Port = pr.GetValue(port) ?? settings.Port;
            settings.Wamrc = pr.GetValue(wamrc) ?? settings.Wamrc;
            settings.BindAddress = pr.GetValue(bind) ?? settings.BindAddress;
            settings.Insecure = pr.GetValue(insecure);
            settings.StatePath = pr.GetValue(state) ?? settings.StatePath;
            settings.TlsCertificate = pr.GetValue(tlsCert) ?? settings.TlsCertificate;
            settings.TlsKey = pr.GetValue(tlsKey) ?? settings.TlsKey;
            settings.LinkKeyPath = pr.GetValue(linkKey) ?? settings.LinkKeyPath;
            settings.FleetNats = pr.GetValue(nats) ?? settings.FleetNats;
            settings.FleetGatewayName = pr.GetValue(name) ?? settings.FleetGatewayName;
            settings.FleetName = pr.GetValue(fleet) ?? settings.FleetName;
            settings.FleetInsecureDev |= pr.GetValue(fleetInsecure);
            settings.Http = pr.GetValue(http) ?? settings.Http;
            settings.Otlp = pr.GetValue(otlp) ?? settings.Otlp;
            if (pr.GetValue(checkConfig))
            {
                IReadOnlyList<ConfigCheck.Finding> findings = [.. await ConfigCheck.RunAsync(settings, pr.GetValue(config)?.FullName ?? "(no config file)"), .. FleetFindings(settings)];
                foreach (var finding in findings)
                {
                    Console.WriteLine(finding);
                }
                var errors = findings.Count(f => f.Severity == ConfigCheck.Severity.Error);
                Console.WriteLine(errors == 0 ? "configuration ok" : $"configuration has {errors} error(s)");
                return errors == 0 ? ExitCodes.Ok : ExitCodes.Usage;
            }
            // The same rules --check-config prints: the start refuses on any broken one.
            var broken = settings.Validate().Where(check => check.Problem is not null).ToList();
            if (broken.Count > 0)
            {
                foreach (var check in broken)
                {
                    await Console.Error.WriteLineAsync($"error: {check.Subject}: {check.Problem}");
                }
                return ExitCodes.Usage;
            }
            var httpEndpoint = settings.CheckHttp();
            var tracing = settings.Otlp is not null ? Wasmorch.Http.TraceExport.Start(settings.CheckOtlp(), settings.FleetGatewayName ?? $"{settings.BindAddress}:{settings.Port}") : null;
            using var loggers = Logging.Create(pr.GetValue(global.Verbose));
            using var traces = tracing;
            GatewayHost gatewayHost;
            try
            {
                gatewayHost = new GatewayHost(settings, loggers, Fleet(settings, loggers));
            }
            catch (Exception ex) when (ex is ConfigException or GatewayException or Wasmorch.Fleet.FleetTrustException)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}");
                return ExitCodes.Usage;
            }
            await using var host = gatewayHost;
            try
            {
                host.Start();
            }
            catch (System.Net.Sockets.SocketException ex)
            {
                await Console.Error.WriteLineAsync($"error: cannot listen on {settings.BindAddress}:{settings.Port}: {ex.Message}");
                return ExitCodes.Usage;
            }
            try
            {
                await host.JoinFleetAsync(ct);
            }
            catch (GatewayException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Code}: {ex.Message}");
                return ExitCodes.Usage;
            }
            await using var httpApi = httpEndpoint is null ? null
                : new Wasmorch.Http.HttpApiServer(new Wasmorch.Http.HttpApiOptions(httpEndpoint)
                {
                    Token = settings.Token,
                    Certificate = host.Certificate,
                    HostNames = settings.HttpHosts,
                    MaxConnections = settings.MaxConnections,
                    MaxConnectionsPerPeer = settings.MaxConnectionsPerPeer,
                }, host.Dispatcher, host.Events, loggers);
            if (httpApi is not null)
            {
                try
                {
                    await httpApi.StartAsync(ct);
                }
                catch (IOException ex)
                {
                    await Console.Error.WriteLineAsync($"error: cannot serve HTTP on {httpEndpoint}: {ex.Message}");
                    return ExitCodes.Usage;
                }
            }
            if (settings.FleetNats is not null)
            {
                Console.WriteLine($"fleet {settings.FleetName} at {Wasmorch.Fleet.NatsFleet.Redacted(settings.FleetNats)} as gateway {settings.FleetGatewayName}");
            }
            Console.WriteLine($"gateway listening on {host.LocalEndpoint}{(host.Tls ? " (TLS)" : "")}");
            if (httpApi is not null)
            {
                Console.WriteLine($"http listening on {httpApi.LocalEndpoint}{(host.Tls ? " (TLS)" : "")}");
            }
            Console.WriteLine($"state {host.StatePath ?? "off"}");
            foreach (var (name, endpoint) in settings.Devices.OrderBy(d => d.Key, StringComparer.Ordinal))
            {
                Console.WriteLine($"device {name} -> {endpoint}");
            }
            Console.Out.Flush();
            await WaitForShutdownAsync(ct);
            Console.WriteLine("gateway stopped");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The fleet of [fleet] / --nats, or null for a gateway on its own.</summary>
    private static Wasmorch.Fleet.NatsFleet? Fleet(GatewayConfig settings, Microsoft.Extensions.Logging.ILoggerFactory loggers)
    {
        // GatewayConfig.Validate, run before the start, refused a server without a name and a name without a server.
        if (settings.FleetNats is null || settings.FleetGatewayName is null)
        {
            return null;
        }
        // The server list first: a typo there is the first thing to say.
        Wasmorch.Fleet.NatsFleet.RequireServerUrls(settings.FleetNats);
        var trust = Trust(settings);
        return new Wasmorch.Fleet.NatsFleet(settings.FleetNats, settings.FleetGatewayName, settings.FleetName, loggers.CreateLogger("Wasmorch.Fleet"),
            new Wasmorch.Fleet.FleetSecurity(settings.FleetCreds, settings.FleetTlsCa, settings.FleetTlsCert, settings.FleetTlsKey, settings.FleetInsecureDev), settings.FleetReplicas, trust,
            settings.FleetTimings);
    }

    /// <summary>What --check-config says of [fleet]: its server list, its keys, and the development flag.</summary>
    private static IEnumerable<ConfigCheck.Finding> FleetFindings(GatewayConfig settings)
    {
        if (settings.FleetNats is null)
        {
            yield break;
        }
        ConfigCheck.Finding finding;
        try
        {
            Wasmorch.Fleet.NatsFleet.RequireServerUrls(settings.FleetNats);
            using var trust = Trust(settings);
            finding = new(ConfigCheck.Severity.Ok, "fleet", trust is null
                ? $"{settings.FleetName} as {settings.FleetGatewayName} at {Wasmorch.Fleet.NatsFleet.Redacted(settings.FleetNats)}, no keys"
                : $"{settings.FleetName} as {settings.FleetGatewayName} at {Wasmorch.Fleet.NatsFleet.Redacted(settings.FleetNats)}, signing as {trust.Signer}, trusting {settings.FleetTrustedGateways.Count} gateway(s) and {settings.FleetTrustedOperators.Count} operator(s)");
        }
        catch (Exception ex) when (ex is ConfigException or GatewayException or Wasmorch.Fleet.FleetTrustException)
        {
            finding = new(ConfigCheck.Severity.Error, "fleet", ex.Message);
        }
        yield return finding;
        if (settings.FleetInsecureDev)
        {
            yield return new(ConfigCheck.Severity.Warning, "fleet", "insecure_dev: a NATS server that lets anyone in is accepted, and no keys (development only; docs/fleet.md)");
        }
    }

    /// <summary>The gateway's fleet key and the fleet's trusted keys; unsigned only with the development flag.</summary>
    private static Wasmorch.Fleet.FleetTrust? Trust(GatewayConfig settings)
    {
        if (settings.FleetKeyFile is null)
        {
            return settings.FleetInsecureDev ? null
                : throw new ConfigException("joining a fleet needs this gateway's fleet key and the fleet's trusted keys ([fleet] key_file, trusted_gateways; `wasmorch fleet init` writes them), or --fleet-insecure for development; see docs/fleet.md");
        }
        var trust = Wasmorch.Fleet.FleetTrust.Load(settings.FleetKeyFile, settings.FleetTrustedGateways, settings.FleetTrustedOperators, settings.FleetTimings.TrustWindow);
        if (trust.Signer != settings.FleetGatewayName)
        {
            throw new ConfigException($"[fleet] key_file '{settings.FleetKeyFile}' is the key of '{trust.Signer}', not of this gateway '{settings.FleetGatewayName}'");
        }
        return trust;
    }

    internal static async Task WaitForShutdownAsync(CancellationToken ct)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, ct);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C or SIGTERM: the normal way for a server role to end.
        }
    }
}
