using System.Text;
using Wasmorch.Fleet;

namespace Wasmorch.Gateway.Tests;

/// <summary>The fleet's envelope (docs/security.md): who may sign what, for which subject, and when.</summary>
public sealed class FleetTrustTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("wasmorch-fleet-trust-").FullName;
    private readonly Dictionary<string, string> _gateways = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _operators = new(StringComparer.Ordinal);

    private FleetTrust Member(string name, bool isOperator = false)
    {
        var (keyFile, publicKey) = FleetTrust.CreateKey(name);
        File.WriteAllText(Path.Combine(_dir, $"{name}.key"), keyFile);
        (isOperator ? _operators : _gateways)[name] = publicKey;
        return Load(name);
    }

    private FleetTrust Load(string name) => FleetTrust.Load(Path.Combine(_dir, $"{name}.key"), _gateways, _operators);

    [Fact]
    public void A_message_opens_only_for_its_binding_its_signer_and_once()
    {
        using var a = Member("gw-a");
        using var b = Member("gw-b");
        using var ops = Member("ops", isOperator: true);
        using var reader = Load("gw-b");
        var sealedRequest = a.Seal("request wasmorch.lab.gateway.gw-b.api r.1", "{}"u8);

        var opened = reader.Open("request wasmorch.lab.gateway.gw-b.api r.1", sealedRequest, FleetSigners.GatewaysOrOperators);
        Assert.Equal("gw-a", opened.Signer);
        Assert.Equal("{}", Encoding.UTF8.GetString(opened.Payload));
        Assert.Contains("a replay", Assert.Throws<FleetTrustException>(() => reader.Open("request wasmorch.lab.gateway.gw-b.api r.1", sealedRequest, FleetSigners.GatewaysOrOperators)).Message, StringComparison.Ordinal);
        Assert.Contains("a bad signature", Assert.Throws<FleetTrustException>(() => reader.Open("request wasmorch.lab.gateway.gw-c.api r.1", a.Seal("request wasmorch.lab.gateway.gw-b.api r.1", "{}"u8), FleetSigners.GatewaysOrOperators)).Message, StringComparison.Ordinal);
        Assert.Contains("unsigned", Assert.Throws<FleetTrustException>(() => reader.Open("x", "{}"u8, FleetSigners.Gateways)).Message, StringComparison.Ordinal);
        Assert.Contains("it speaks for 'gw-b'", Assert.Throws<FleetTrustException>(() => reader.Open("x", a.Seal("x", "1"u8), FleetSigners.Gateways, expected: "gw-b")).Message, StringComparison.Ordinal);
        // An operator signs requests, not what only gateways sign (claims, replies, records, artifacts).
        Assert.True(reader.Open("y", ops.Seal("y", "1"u8), FleetSigners.GatewaysOrOperators).IsOperator);
        Assert.Contains("does not trust", Assert.Throws<FleetTrustException>(() => reader.Open("z", ops.Seal("z", "1"u8), FleetSigners.Gateways)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stale_request_is_refused_but_a_record_is_read_at_any_age()
    {
        using var a = Member("gw-a");
        using var reader = Load("gw-a");
        var old = a.Seal("wasmorch.lab.jobs.gw-a.6131", "r"u8, DateTimeOffset.UtcNow - a.Window - TimeSpan.FromSeconds(5));
        Assert.Contains("stale", Assert.Throws<FleetTrustException>(() => reader.Open("wasmorch.lab.jobs.gw-a.6131", old, FleetSigners.Gateways)).Message, StringComparison.Ordinal);
        Assert.Equal("r", Encoding.UTF8.GetString(reader.Open("wasmorch.lab.jobs.gw-a.6131", old, FleetSigners.Gateways, "gw-a", fresh: false).Payload));
    }

    [Fact]
    public void A_key_file_or_trusted_key_that_is_not_one_is_refused_and_names_with_subject_wildcards_are_not_names()
    {
        File.WriteAllText(Path.Combine(_dir, "bad.key"), "gw-a:not-base64");
        Assert.Throws<FleetTrustException>(() => FleetTrust.Load(Path.Combine(_dir, "bad.key"), _gateways, _operators));
        using var a = Member("gw-a");
        _gateways["gw.*"] = _gateways["gw-a"];
        Assert.Contains("is not a fleet name", Assert.Throws<FleetTrustException>(() => Load("gw-a")).Message, StringComparison.Ordinal);
        foreach (var name in new[] { "*", ">", "gw.b", "gw b", "", new string('a', 65) })
        {
            Assert.False(NatsFleet.IsValidName(name), name);
        }
        Assert.True(NatsFleet.IsValidName("gw-a_1"));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
