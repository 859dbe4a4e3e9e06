using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Wasmorch.Fleet;

namespace Wasmorch.Cli.Commands;

/// <summary>
/// <c>wasmorch fleet init</c>: a secure fleet in one step (docs/fleet.md, Quick start). Writes the
/// NATS server's configuration (one account for the fleet, a user per gateway and one for the
/// operator, each narrowed to the subjects it needs; JetStream under the folder; loopback unless
/// told otherwise), each member's Ed25519 fleet key, and a config per gateway and for the operator
/// with the fleet's trusted keys. Nothing is overwritten: a folder already holding a fleet is refused.
/// </summary>
public static class FleetInit
{
    /// <summary>The operator's name in the fleet: its NATS user, key and config (<c>ops.toml</c>).</summary>
    public const string Operator = "ops";

    public static IReadOnlyList<string> Write(string dir, string fleet, IReadOnlyList<string> gateways, string listen, int firstPort)
    {
        foreach (var name in gateways.Append(fleet))
        {
            if (!NatsFleet.IsValidName(name))
            {
                throw new UsageException($"'{name}' is not a fleet or gateway name: 1 to 64 of A-Z a-z 0-9 _ -");
            }
        }
        if (gateways.Count == 0 || gateways.Distinct(StringComparer.Ordinal).Count() != gateways.Count || gateways.Contains(Operator, StringComparer.Ordinal))
        {
            throw new UsageException($"--gateways needs one or more distinct names (not '{Operator}', the operator's)");
        }
        var (host, port) = ParseListen(listen);
        dir = Path.GetFullPath(dir);
        var conf = Path.Combine(dir, "nats-server.conf");
        if (File.Exists(conf))
        {
            throw new UsageException($"{conf} exists: fleet init writes a new fleet and overwrites nothing");
        }
        Directory.CreateDirectory(dir);
        var members = gateways.Append(Operator).ToDictionary(n => n, n => (Key: FleetTrust.CreateKey(n), Password: Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))), StringComparer.Ordinal);
        var written = new List<string>();
        foreach (var (name, member) in members)
        {
            written.Add(WriteSecret(Path.Combine(dir, $"{name}.key"), member.Key.KeyFileText));
        }
        written.Add(WriteSecret(conf, ServerConfig(dir, fleet, gateways, members.ToDictionary(m => m.Key, m => m.Value.Password, StringComparer.Ordinal), host, port)));
        var trust = new StringBuilder();
        trust.Append("trusted_gateways = { ").AppendJoin(", ", gateways.Select(g => $"{g} = \"{members[g].Key.PublicKey}\"")).Append(" }\n");
        trust.Append(CultureInfo.InvariantCulture, $"trusted_operators = {{ {Operator} = \"{members[Operator].Key.PublicKey}\" }}\n");
        var url = (string name) => $"nats://{name}:{members[name].Password}@{(host == "0.0.0.0" ? "127.0.0.1" : host)}:{port}";
        for (var i = 0; i < gateways.Count; i++)
        {
            var name = gateways[i];
            written.Add(WriteSecret(Path.Combine(dir, $"{name}.toml"), $"""
                # Gateway {name} of fleet {fleet}, written by `wasmorch fleet init` (docs/fleet.md).
                # Add devices here ([devices.x] endpoint = "…") or with --add-device.
                [gateway]
                port = {firstPort + i}

                [fleet]
                nats = "{url(name)}"
                name = "{name}"
                fleet = "{fleet}"
                key_file = "{name}.key"
                {trust}
                """));
        }
        written.Add(WriteSecret(Path.Combine(dir, $"{Operator}.toml"), $"""
            # The operator of fleet {fleet}, written by `wasmorch fleet init` (docs/fleet.md):
            #   wasmorch --gateway "nats://{host}:{port}?fleet={fleet}&keys={Path.Combine(dir, Operator + ".toml")}" devices
            [fleet]
            nats = "{url(Operator)}"
            name = "{Operator}"
            fleet = "{fleet}"
            key_file = "{Operator}.key"
            {trust}
            """));
        return written;
    }

    private static (string Host, int Port) ParseListen(string listen)
    {
        var colon = listen.LastIndexOf(':');
        return colon > 0 && System.Net.IPAddress.TryParse(listen[..colon], out _)
            && int.TryParse(listen[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
            ? (listen[..colon], port)
            : throw new UsageException($"--listen '{listen}' is not ip:port (default 127.0.0.1:4222)");
    }

    /// <summary>
    /// The server's configuration: the fleet's own account (its subjects and JetStream assets apart
    /// from any other fleet's), and each user allowed only what its role uses. A gateway publishes
    /// records only under its own name and hears requests only on its own API subject.
    /// </summary>
    private static string ServerConfig(string dir, string fleet, IReadOnlyList<string> gateways, Dictionary<string, string> passwords, string host, int port)
    {
        var jetStream = $"\"$KV.wasmorch_{fleet}_devices.>\", \"$KV.wasmorch_{fleet}_state.>\", \"$O.wasmorch_{fleet}_artifacts.>\"";
        var users = new StringBuilder();
        foreach (var gw in gateways)
        {
            users.Append(CultureInfo.InvariantCulture, $$"""
                      { user: "{{gw}}", password: "{{passwords[gw]}}", permissions: {
                          publish: { allow: [ "wasmorch.{{fleet}}.gateway.*.api", "wasmorch.{{fleet}}.reply.>", "wasmorch.{{fleet}}.logs.{{gw}}",
                                              "wasmorch.{{fleet}}.jobs.{{gw}}.>", "wasmorch.{{fleet}}.changes.{{gw}}", "wasmorch.{{fleet}}.published.{{gw}}",
                                              "$JS.API.>", {{jetStream}}, "$JS.FC.>", "$JS.ACK.>", "_INBOX.>" ] }
                          subscribe: { allow: [ "wasmorch.{{fleet}}.gateway.{{gw}}.api", "wasmorch.{{fleet}}.reply.>", "wasmorch.{{fleet}}.logs.>",
                                                "wasmorch.{{fleet}}.changes.>", "wasmorch.{{fleet}}.published.>", {{jetStream}}, "_INBOX.>" ] } } }

                """);
        }
        users.Append(CultureInfo.InvariantCulture, $$"""
                  { user: "{{Operator}}", password: "{{passwords[Operator]}}", permissions: {
                      publish: { allow: [ "wasmorch.{{fleet}}.gateway.*.api", "$JS.API.>", {{jetStream}}, "$JS.FC.>", "$JS.ACK.>", "_INBOX.>" ] }
                      subscribe: { allow: [ "wasmorch.{{fleet}}.reply.>", {{jetStream}}, "_INBOX.>" ] } } }

            """);
        return $$"""
            # NATS server of fleet {{fleet}}, written by `wasmorch fleet init` (docs/fleet.md): nats-server -c {{Path.Combine(dir, "nats-server.conf")}}
            # Passwords are in this file and in each member's .toml: keep them to their owners (mode 0600).
            listen: "{{host}}:{{port.ToString(CultureInfo.InvariantCulture)}}"
            jetstream { store_dir: "{{Path.Combine(dir, "jetstream")}}" }
            accounts {
              FLEET_{{fleet}} {
                jetstream: enabled
                users: [
            {{users}}    ]
              }
            }

            """;
    }

    private static string WriteSecret(string path, string text)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var file = new StreamWriter(path, new UTF8Encoding(false), options))
        {
            file.Write(text);
        }
        return path;
    }
}
