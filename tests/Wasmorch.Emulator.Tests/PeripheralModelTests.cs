using Wasmorch.Emulator.Peripherals;
using Wasmorch.Protocol.Modules;

namespace Wasmorch.Emulator.Tests;

/// <summary>The simulated parts on their own: the TMP102's registers, ADC waveforms, PWM bounds, the event bucket.</summary>
public sealed class PeripheralModelTests
{
    [Theory]
    [InlineData(25_000, 0x1900)]
    [InlineData(0, 0x0000)]
    [InlineData(-250, 0xFFC0)]
    [InlineData(-25_000, 0xE700)]
    [InlineData(125_000, 0x7D00)]
    [InlineData(-55_000, 0xC900)]
    public void Tmp102_register_is_twelve_bits_of_a_sixteenth_degree_left_aligned(int milliC, int register)
    {
        Assert.Equal((ushort)register, Tmp102.Register(milliC));
        Assert.Equal(milliC, Tmp102.MilliC((ushort)register));
    }

    [Fact]
    public void Tmp102_pointer_selects_a_register_and_writes_to_temperature_are_ignored()
    {
        var sensor = new Tmp102(21_500);
        var two = new byte[2];
        Assert.Equal(0, sensor.Write([1]));
        Assert.Equal(0, sensor.Read(two));
        Assert.Equal(new byte[] { 0x60, 0xA0 }, two);
        Assert.Equal(0, sensor.Write([2, 0x12, 0x34]));
        Assert.Equal(0, sensor.Read(two));
        Assert.Equal(new byte[] { 0x12, 0x34 }, two);
        Assert.Equal(0, sensor.Write([0, 0xFF, 0xFF]));
        Assert.Equal(0, sensor.Read(two));
        Assert.Equal(Tmp102.Register(21_500), (ushort)(two[0] << 8 | two[1]));
        Assert.Equal(NativeAbi.Io, sensor.Write([4]));
        Assert.Equal(NativeAbi.Io, sensor.Write([1, 2]));
    }

    [Theory]
    [InlineData("const:1234", 0, 1234)]
    [InlineData("sine:1000:3000:2000", 0, 2000)]
    [InlineData("sine:1000:3000:2000", 500, 3000)]
    [InlineData("sine:1000:3000:2000", 1500, 1000)]
    [InlineData("ramp:0:1000:1000", 250, 250)]
    [InlineData("square:10:20:100", 49, 10)]
    [InlineData("square:10:20:100", 50, 20)]
    public void Waveforms_give_their_value_at_a_time(string text, long uptimeMs, int counts)
    {
        var wave = Waveform.Parse(text, out var error);
        Assert.Null(error);
        Assert.Equal(counts, wave!.At(uptimeMs));
    }

    [Theory]
    [InlineData("const:4096")]
    [InlineData("sine:3000:1000:2000")]
    [InlineData("sine:0:10:5")]
    [InlineData("triangle:0:10:100")]
    [InlineData("ramp:0:10")]
    [InlineData("const:-1")]
    public void Bad_waveforms_are_refused_saying_the_forms(string text)
    {
        Assert.Null(Waveform.Parse(text, out var error));
        Assert.Equal($"ADC waveform '{text}' is not const:V or sine|ramp|square:MIN:MAX:PERIOD_MS (counts 0-4095, MIN <= MAX, period 10-3600000 ms)", error);
    }

    [Fact]
    public void Pwm_keeps_what_was_set_and_refuses_a_pulse_longer_than_its_period()
    {
        var pwm = new PwmChannels();
        Assert.Null(pwm.Status());
        Assert.Equal(0, pwm.Set(2, 1000, 250));
        Assert.Equal(0, pwm.Set(0, 20_000, 0));
        Assert.Equal(NativeAbi.Invalid, pwm.Set(1, 1000, 1001));
        Assert.Equal(NativeAbi.Invalid, pwm.Set(1, 0, 0));
        Assert.Equal(NativeAbi.Invalid, pwm.Set(1, PwmChannels.MaxPeriodUs + 1, 0));
        Assert.Equal("0:20000:0,2:1000:250", pwm.Status());
    }

    [Fact]
    public void Event_bucket_gives_its_burst_then_its_rate()
    {
        var time = new ManualTime();
        var bucket = new EventBucket(perSecond: 10, burst: 3, time);
        Assert.Equal([true, true, true, false], Enumerable.Range(0, 4).Select(_ => bucket.TryTake()));
        time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.False(bucket.TryTake());
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(bucket.TryTake());
        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal([true, true, true, false], Enumerable.Range(0, 4).Select(_ => bucket.TryTake()));
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
