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
        var command = new Command("gateway", "Run the gateway: host API, device sessions, compiler") { port, bind, config, devices, wamrc, insecure, state, tlsCert, tlsKey, linkKey };
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
            using var loggers = Logging.Create(pr.GetValue(global.Verbose));
            GatewayHost gatewayHost;
            try
            {
                gatewayHost = new GatewayHost(settings, loggers);
            }
            catch (ConfigException ex)
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
            Console.WriteLine($"gateway listening on {host.LocalEndpoint}{(host.Tls ? " (TLS)" : "")}");
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
