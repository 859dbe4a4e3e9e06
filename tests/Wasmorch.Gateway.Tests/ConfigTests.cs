using Wasmorch.Gateway.Config;
using Wasmorch.Transport;

namespace Wasmorch.Gateway.Tests;

public sealed class ConfigTests
{
    [Fact]
    public void Reads_the_design_device_map()
    {
        var config = GatewayConfig.Parse("""
            [gateway]
            port = 9100
            reply_timeout_ms = 1500
            [devices.nucleo]
            endpoint = "serial:///dev/ttyACM0?baud=921600"
            [devices.disco]
            endpoint = "tcp://127.0.0.1:3456"
            [devices.sim1]
            endpoint = "tcp://127.0.0.1:7001"
            emulate = true
            """, "test.toml");
        Assert.Equal(9100, config.Port);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), config.ReplyTimeout);
        Assert.Equal(EndpointKind.Serial, config.Devices["nucleo"].Kind);
        Assert.Equal(("/dev/ttyACM0", 921600), (config.Devices["nucleo"].Path, config.Devices["nucleo"].Baud));
        Assert.Equal(("127.0.0.1", 3456), (config.Devices["disco"].Host, config.Devices["disco"].Port));
        Assert.Equal(["sim1"], config.Emulated);
    }

    [Theory]
    [InlineData("[devices.x]\nendpoint = \"http://x\"", "tcp://host:port, serial")]
    [InlineData("[devices.x]\nport = 1", "has no endpoint")]
    [InlineData("[devices.x]\nendpoint = \"tcp://h:99999\"", "not tcp://host:port")]
    [InlineData("[devices.\"bad name\"]\nendpoint = \"tcp://h:1\"", "device name")]
    [InlineData("[gateway]\nport = \"9000\"", "test.toml: [gateway] port: must be a whole number, not the string \"9000\"")]
    [InlineData("[devices.x]\nendpoint = \"serial:///dev/tty?speed=9\"", "baud")]
    [InlineData("this is = = not toml", "test.toml")]
    public void Bad_config_says_what_and_where(string toml, string message)
    {
        var error = Assert.Throws<ConfigException>(() => GatewayConfig.Parse(toml, "test.toml"));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    /// <summary>Finding 3 of issue 14: every one of these used to start a gateway that silently ignored or mangled the setting.</summary>
    [Theory]
    [InlineData("[gateway]\ntokn = \"0123456789abcdef\"", "test.toml: [gateway] tokn: unknown setting; did you mean token?")]
    [InlineData("[gatway]\nport = 9000", "test.toml: gatway: unknown setting; did you mean gateway?")]
    [InlineData("[devices.x]\nendpoint = \"tcp://h:1\"\nrequire_signed = \"true\"", "test.toml: [devices.x] require_signed: must be true or false, not the string \"true\"")]
    [InlineData("[devices.x]\nendpoint = \"tcp://h:1\"\nrequire_signd = true", "test.toml: [devices.x] require_signd: unknown setting; did you mean require_signed?")]
    [InlineData("[devices.x]\nendpoint = \"tcp://h:1\"\nemulate = \"yes\"", "test.toml: [devices.x] emulate: must be true or false, not the string \"yes\"")]
    [InlineData("[signing]\ntrusted_key = []", "test.toml: [signing] trusted_key: unknown setting; did you mean trusted_keys?")]
    [InlineData("[signing]\ntrusted_keys = \"abc\"", "test.toml: [signing] trusted_keys: must be a list of strings, not the string \"abc\"")]
    [InlineData("[gateway]\nidle_timeout_ms = 9999999999", "test.toml: [gateway] idle_timeout_ms: 9999999999 is out of range: 1000 to 86400000 (milliseconds)")]
    [InlineData("[gateway]\nport = 70000", "test.toml: [gateway] port: 70000 is out of range: 0 to 65535")]
    [InlineData("[gateway]\nmax_connections = 4294967297", "test.toml: [gateway] max_connections: 4294967297 is out of range: 1 to 65536")]
    [InlineData("[gateway]\nmax_module_bytes = 4294967296", "test.toml: [gateway] max_module_bytes: 4294967296 is out of range: 1 to 786432 (bytes)")]
    [InlineData("[build]\ntimeout_ms = 9223372036854775807", "test.toml: [build] timeout_ms: 9223372036854775807 is out of range: 1000 to 600000 (milliseconds)")]
    [InlineData("[gateway]\nreply_timeout_ms = 1.5", "test.toml: [gateway] reply_timeout_ms: must be a whole number, not 1.5")]
    [InlineData("[gateway]\nreply_timeout_ms = -5", "test.toml: [gateway] reply_timeout_ms: -5 is out of range: 100 to 600000 (milliseconds)")]
    [InlineData("[build]\nsandbox = \"none\"", "test.toml: [build] sandbox: must be \"bwrap\" or \"off\", not \"none\"")]
    [InlineData("gateway = 3", "test.toml: gateway: must be a table ([gateway]), not 3")]
    [InlineData("[devices]\nnucleo = \"tcp://h:1\"", "test.toml: [devices] nucleo: must be a table, not the string \"tcp://h:1\"")]
    public void Unknown_mistyped_and_out_of_range_settings_are_refused_naming_file_table_and_key(string toml, string message)
    {
        var error = Assert.Throws<ConfigException>(() => GatewayConfig.Parse(toml, "test.toml"));
        Assert.Equal(message, error.Message[..Math.Min(error.Message.Length, message.Length)]);
    }

    [Fact]
    public void The_repositorys_own_config_is_read_without_complaint()
    {
        var config = GatewayConfig.Load(Path.Combine(Wasmorch.Testing.RepoPaths.Root, "wasmorch.toml"));
        Assert.Equal(["disco", "nucleo"], config.Emulated.Order(StringComparer.Ordinal));
    }
}

/// <summary>Issue 21: [devices.x] grants, what each module id may use on a device (docs/protocol.md §6c).</summary>
public sealed class GrantConfigTests
{
    private const string Device = "[devices.x]\nendpoint = \"tcp://h:1\"\n";

    [Fact]
    public void Grants_of_a_module_and_of_any_module_add_up_and_a_device_without_grants_has_none_configured()
    {
        var config = GatewayConfig.Parse(Device + "grants = { sensor = [\"i2c0\", \"events\"], \"*\" = [\"timer\"] }\n[devices.y]\nendpoint = \"tcp://h:2\"", "test.toml");
        Assert.Equal(["events", "i2c0", "timer"], config.GrantedTo("x", "sensor")!.Order(StringComparer.Ordinal));
        Assert.Equal(["timer"], config.GrantedTo("x", "other")!);
        Assert.Null(config.GrantedTo("y", "sensor"));
    }

    [Theory]
    [InlineData("grants = { sensor = [\"i2c9\"] }", "test.toml: [devices.x] grants.sensor[0]: unknown capability 'i2c9' (known: gpio, adc, i2c0, i2c1, pwm, timer, events, kv)")]
    [InlineData("grants = { \"bad id\" = [\"adc\"] }", "test.toml: [devices.x] grants.bad id: 'bad id' is not a module id ([A-Za-z0-9_.-]{1,32}) or \"*\"")]
    [InlineData("grants = { sensor = \"adc\" }", "test.toml: [devices.x] grants.sensor: must be a list of strings ([\"a\", \"b\"]), not the string \"adc\"")]
    [InlineData("grants = { sensor = [1] }", "test.toml: [devices.x] grants.sensor[0]: must be a string (in quotes), not 1")]
    [InlineData("grants = [\"adc\"]", "test.toml: [devices.x] grants: must be a table of lists (grants = { name = [\"a\", \"b\"] }), not")]
    [InlineData("grant = { sensor = [\"adc\"] }", "test.toml: [devices.x] grant: unknown setting; did you mean grants?")]
    public void Bad_grants_say_what_and_where(string line, string message)
    {
        var error = Assert.Throws<ConfigException>(() => GatewayConfig.Parse(Device + line, "test.toml"));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
