using Wasmorch.Gateway.Fleet;

namespace Wasmorch.Gateway.Config;

/// <summary>The timing keys of the [fleet] table (docs/fleet.md, Timings), each in milliseconds with its range.</summary>
public sealed partial class GatewayConfig
{
    /// <summary>
    /// <paramref name="current"/> with what <paramref name="fleet"/> sets. The ranges keep a gateway
    /// working: a lease under 1.5 s is renewed faster than a busy NATS server answers, a silence
    /// limit under the serving side's "still at work" interval calls every long request lost.
    /// </summary>
    private static FleetTimings ReadFleetTimings(TomlSection fleet, FleetTimings current)
    {
        var timings = current with
        {
            ClaimLease = fleet.Millis("claim_lease_ms", 1_500, 3_600_000) ?? current.ClaimLease,
            SilenceLimit = fleet.Millis("silence_limit_ms", 500, 600_000) ?? current.SilenceLimit,
            WorkingInterval = fleet.Millis("working_interval_ms", 100, 60_000) ?? current.WorkingInterval,
            ForwardMargin = fleet.Millis("forward_margin_ms", 1_000, 3_600_000) ?? current.ForwardMargin,
            RejoinInterval = fleet.Millis("rejoin_interval_ms", 100, 600_000) ?? current.RejoinInterval,
            RecordReadLimit = fleet.Millis("record_read_limit_ms", 100, 600_000) ?? current.RecordReadLimit,
            RecordGiveUp = fleet.Millis("record_give_up_ms", 100, 3_600_000) ?? current.RecordGiveUp,
            TrustWindow = fleet.Millis("trust_window_ms", 1_000, 3_600_000) ?? current.TrustWindow,
            DesiredRetry = fleet.Millis("desired_retry_ms", 100, 600_000) ?? current.DesiredRetry,
            DesiredGrace = fleet.Millis("desired_grace_ms", 0, 600_000) ?? current.DesiredGrace,
        };
        if (timings.WorkingInterval >= timings.SilenceLimit)
        {
            throw fleet.Error("working_interval_ms", string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"{timings.WorkingInterval.TotalMilliseconds:0} must be below silence_limit_ms ({timings.SilenceLimit.TotalMilliseconds:0}): a request still at work would be called lost"));
        }
        return timings;
    }
}
