using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Protocol.Tests;

/// <summary>The small parsers the fleet operations share (docs/fleet-ops.md): module_crcs, func[:args], a selector against a device list.</summary>
public sealed class FleetOpsParsingTests
{
    [Fact]
    public void Module_crcs_maps_each_module_id_to_its_lower_case_crc_and_skips_pairs_without_an_id()
    {
        Assert.Equal(new Dictionary<string, string> { ["math_ops"] = "71e3f56c", ["v.2"] = "0000abcd" }, ModuleCrcs.Parse("math_ops:71E3F56C,:ffff,v.2:0000abcd,nocolon"));
        Assert.Empty(ModuleCrcs.Parse(null));
        Assert.Empty(ModuleCrcs.Parse("-"));
    }

    [Fact]
    public void A_func_call_is_a_c_identifier_and_arguments_as_start_takes_them()
    {
        Assert.True(FuncCall.TryParse("blink:pin=5,period_ms=100", out var call));
        Assert.Equal(new FuncCall("blink", "pin=5,period_ms=100"), call);
        Assert.True(FuncCall.TryParse("self_test", out call));
        Assert.Equal(new FuncCall("self_test", null), call);
        Assert.False(FuncCall.TryParse("self test", out call));
        Assert.Null(call);
        Assert.False(FuncCall.TryParse("f:a=", out _));
    }

    [Fact]
    public void A_selector_names_the_key_no_device_has_and_says_when_it_matches_none()
    {
        Assert.True(Selector.TryParse("site=lab1", out var site, out _));
        Assert.True(Selector.TryParse("rack=r1", out var rack, out _));
        IReadOnlyDictionary<string, string>?[] devices = [new Dictionary<string, string> { ["site"] = "lab2", ["board"] = "x" }, null];
        Assert.Equal("no device has a label 'rack' (labels: board, site)", rack!.ProblemAmong(devices));
        Assert.Equal("selector 'site=lab1' matches none of the 2 device(s)", site!.ProblemAmong(devices));
        Assert.Null(site.ProblemAmong([new Dictionary<string, string> { ["site"] = "lab1" }]));
    }
}
