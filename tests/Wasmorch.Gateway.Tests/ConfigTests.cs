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
    [InlineData("[devices.x]\nendpoint = \"http://x\"", "tcp://host:port or serial")]
    [InlineData("[devices.x]\nport = 1", "has no endpoint")]
    [InlineData("[devices.x]\nendpoint = \"tcp://h:99999\"", "not tcp://host:port")]
    [InlineData("[devices.\"bad name\"]\nendpoint = \"tcp://h:1\"", "device name")]
    [InlineData("[gateway]\nport = \"9000\"", "'port' must be a non-negative integer")]
    [InlineData("[devices.x]\nendpoint = \"serial:///dev/tty?speed=9\"", "baud")]
    [InlineData("this is = = not toml", "test.toml")]
    public void Bad_config_says_what_and_where(string toml, string message)
    {
        var error = Assert.Throws<ConfigException>(() => GatewayConfig.Parse(toml, "test.toml"));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
