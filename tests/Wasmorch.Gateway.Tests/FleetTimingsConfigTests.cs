using Wasmorch.Gateway.Config;
using Wasmorch.Gateway.Fleet;

namespace Wasmorch.Gateway.Tests;

/// <summary>[fleet] timings (issue 31): each read with its range, unknown ones and contradictions refused.</summary>
public sealed class FleetTimingsConfigTests
{
    [Fact]
    public void Every_timing_is_read_and_the_rest_keep_their_defaults()
    {
        var config = GatewayConfig.Parse("""
            [fleet]
            claim_lease_ms = 4500
            silence_limit_ms = 2000
            working_interval_ms = 300
            forward_margin_ms = 5000
            rejoin_interval_ms = 250
            record_read_limit_ms = 700
            record_give_up_ms = 900
            trust_window_ms = 30000
            desired_retry_ms = 150
            desired_grace_ms = 0
            """, "test.toml");
        Assert.Equal(new FleetTimings
        {
            ClaimLease = TimeSpan.FromMilliseconds(4500),
            SilenceLimit = TimeSpan.FromSeconds(2),
            WorkingInterval = TimeSpan.FromMilliseconds(300),
            ForwardMargin = TimeSpan.FromSeconds(5),
            RejoinInterval = TimeSpan.FromMilliseconds(250),
            RecordReadLimit = TimeSpan.FromMilliseconds(700),
            RecordGiveUp = TimeSpan.FromMilliseconds(900),
            TrustWindow = TimeSpan.FromSeconds(30),
            DesiredRetry = TimeSpan.FromMilliseconds(150),
            DesiredGrace = TimeSpan.Zero,
        }, config.FleetTimings);

        var some = GatewayConfig.Parse("[fleet]\nsilence_limit_ms = 3000\n", "test.toml").FleetTimings;
        Assert.Equal(FleetTimings.Default with { SilenceLimit = TimeSpan.FromSeconds(3) }, some);
        Assert.Equal(FleetTimings.Default, GatewayConfig.Parse("", "test.toml").FleetTimings);
    }

    [Theory]
    [InlineData("silence_limit_ms = 100", "test.toml: [fleet] silence_limit_ms: 100 is out of range: 500 to 600000 (milliseconds)")]
    [InlineData("claim_lease_ms = 1000", "test.toml: [fleet] claim_lease_ms: 1000 is out of range: 1500 to 3600000 (milliseconds)")]
    [InlineData("working_interval_ms = 0", "test.toml: [fleet] working_interval_ms: 0 is out of range: 100 to 60000 (milliseconds)")]
    [InlineData("forward_margin_ms = 99999999", "test.toml: [fleet] forward_margin_ms: 99999999 is out of range: 1000 to 3600000 (milliseconds)")]
    [InlineData("rejoin_interval_ms = -1", "test.toml: [fleet] rejoin_interval_ms: -1 is out of range: 100 to 600000 (milliseconds)")]
    [InlineData("record_read_limit_ms = 50", "test.toml: [fleet] record_read_limit_ms: 50 is out of range: 100 to 600000 (milliseconds)")]
    [InlineData("record_give_up_ms = 1.5", "test.toml: [fleet] record_give_up_ms: must be a whole number, not 1.5")]
    [InlineData("trust_window_ms = \"60s\"", "test.toml: [fleet] trust_window_ms: must be a whole number, not the string \"60s\"")]
    [InlineData("desired_retry_ms = 9", "test.toml: [fleet] desired_retry_ms: 9 is out of range: 100 to 600000 (milliseconds)")]
    [InlineData("desired_grace_ms = 600001", "test.toml: [fleet] desired_grace_ms: 600001 is out of range: 0 to 600000 (milliseconds)")]
    [InlineData("silence_limt_ms = 2000", "test.toml: [fleet] silence_limt_ms: unknown setting; did you mean silence_limit_ms?")]
    [InlineData("silence_limit_ms = 1000\nworking_interval_ms = 1000", "test.toml: [fleet] working_interval_ms: 1000 must be below silence_limit_ms (1000): a request still at work would be called lost")]
    [InlineData("silence_limit_ms = 800", "test.toml: [fleet] working_interval_ms: 1000 must be below silence_limit_ms (800)")]
    public void A_bad_timing_is_refused_with_its_key_and_range(string settings, string message)
    {
        var error = Assert.Throws<ConfigException>(() => GatewayConfig.Parse("[fleet]\n" + settings + "\n", "test.toml"));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
