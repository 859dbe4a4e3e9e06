using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Modules;

namespace Wasmorch.Protocol.Tests;

/// <summary>§6c's EVENT line, byte for byte as the C core writes it (firmware/agent/tests/test_events.c).</summary>
public sealed class EventLineTests
{
    [Fact]
    public void Event_line_carries_the_data_as_lower_case_hex()
    {
        Assert.Equal("EVENT module_id=thermostat job=3 uptime_ms=1200 topic=temp data=0058ff",
            EventLine.Build("thermostat", 3, 1200, "temp", [0x00, 0x58, 0xff]).ToString());
    }

    [Fact]
    public void Event_without_data_says_dash_and_reads_back_empty()
    {
        var line = EventLine.Build("m", 1, 0, "button/pressed", []);
        Assert.Equal("EVENT module_id=m job=1 uptime_ms=0 topic=button/pressed data=-", line.ToString());
        Assert.Empty(EventLine.Data(Parse(line.ToString()))!);
    }

    [Fact]
    public void Longest_event_fits_a_line()
    {
        var line = EventLine.Build(new string('a', 32), uint.MaxValue, uint.MaxValue, new string('t', 32), new byte[NativeAbi.MaxEventBytes]);
        Assert.True(line.FitsWhole);
    }

    [Theory]
    [InlineData("data=0g")]
    [InlineData("data=abc")]
    [InlineData("")]
    public void Malformed_data_reads_as_null(string field)
    {
        var parsed = Parse($"EVENT module_id=m job=1 uptime_ms=0 topic=t {field}");
        Assert.Null(EventLine.Data(parsed));
    }

    [Fact]
    public void Too_much_data_reads_as_null()
    {
        var parsed = Parse($"EVENT module_id=m job=1 uptime_ms=0 topic=t data={new string('a', 2 * NativeAbi.MaxEventBytes + 2)}");
        Assert.Null(EventLine.Data(parsed));
    }

    [Fact]
    public void Module_needs_the_capabilities_of_its_imports_only()
    {
        Assert.Equal(["events", "i2c0"], Capabilities.Required(["publish", "i2c0_write_read", "delay_ms", "i2c0_read", "log_str"]));
        Assert.Empty(Capabilities.Required(["gpio_write", "delay_ms", "should_stop", "uptime_ms"]));
    }

    [Theory]
    [InlineData("temp", true)]
    [InlineData("room/1/temp", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("tttttttttttttttttttttttttttttttt", true)]
    [InlineData("ttttttttttttttttttttttttttttttttt", false)]
    public void Topic_names_are_checked(string topic, bool valid) => Assert.Equal(valid, NativeAbi.IsValidTopic(topic));

    private static AgentLine Parse(string text)
    {
        Assert.True(AgentLineParser.TryParse(System.Text.Encoding.ASCII.GetBytes(text), out var line, out _));
        return line!;
    }
}
