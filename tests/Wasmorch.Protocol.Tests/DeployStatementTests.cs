using System.Text;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Protocol.Tests;

public sealed class DeployStatementTests
{
    private static HostRequest Build() => new()
    {
        Op = HostOps.BuildAndDeploy, Device = "d", ModuleId = "m", Mode = "wasm", SourceName = "m.c", OptLevel = "z", StackSize = 8192, Exports = ["b", "a"],
    };

    private static string Statement(HostRequest request, string content = "int x;") => Encoding.UTF8.GetString(DeployStatement.For(request, Encoding.UTF8.GetBytes(content)));

    [Fact]
    public void The_statement_names_everything_that_decides_the_artifact_and_where_it_goes()
    {
        Assert.Equal(
            "wasmorch-deploy-v1\nop=build_and_deploy\ndevice=d\nmodule_id=m\nmode=wasm\n" +
            "content_sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n" +
            "source_name=m.c\nopt_level=z\nstack_size=8192\nexports=a,b\n",
            Statement(Build(), ""));
    }

    [Fact]
    public void Keeping_names_is_stated_when_asked_and_a_statement_without_it_reads_as_before()
    {
        var request = Build();
        request.KeepNames = true;
        Assert.EndsWith("exports=a,b\nkeep_names=true\n", Statement(request, ""), StringComparison.Ordinal);
        Assert.DoesNotContain("keep_names", Statement(Build(), ""), StringComparison.Ordinal);
    }

    [Fact]
    public void Wasm_opt_is_stated_when_asked_and_a_statement_without_it_reads_as_before()
    {
        var request = Build();
        request.KeepNames = true;
        request.WasmOpt = true;
        Assert.EndsWith("exports=a,b\nkeep_names=true\nwasm_opt=true\n", Statement(request, ""), StringComparison.Ordinal);
        Assert.DoesNotContain("wasm_opt", Statement(Build(), ""), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("device")]
    [InlineData("module_id")]
    [InlineData("mode")]
    [InlineData("source_name")]
    [InlineData("opt_level")]
    [InlineData("stack_size")]
    [InlineData("exports")]
    [InlineData("content")]
    public void Changing_any_part_changes_the_statement(string part)
    {
        var changed = Build();
        var content = "int x;";
        switch (part)
        {
            case "device": changed.Device = "e"; break;
            case "module_id": changed.ModuleId = "n"; break;
            case "mode": changed.Mode = "aot"; break;
            case "source_name": changed.SourceName = "n.c"; break;
            case "opt_level": changed.OptLevel = "0"; break;
            case "stack_size": changed.StackSize = 4096; break;
            case "exports": changed.Exports = ["a", "b", "secret"]; break;
            default: content = "int y;"; break;
        }
        Assert.NotEqual(Statement(Build()), Statement(changed, content));
    }

    [Fact]
    public void Export_order_does_not_matter()
    {
        var reordered = Build();
        reordered.Exports = ["a", "b"];
        Assert.Equal(Statement(Build()), Statement(reordered));
    }

    [Fact]
    public void The_language_and_the_files_beside_the_source_are_stated_when_sent_and_each_file_is_covered()
    {
        var request = Build();
        request.Lang = "rust";
        request.Files = new Dictionary<string, string> { ["tmp102.rs"] = "pub fn a() {}", ["util/mod.rs"] = "" };
        var stated = Statement(request);
        Assert.Contains("\nlang=rust\nfiles_sha256=", stated, StringComparison.Ordinal);
        // Another byte in any file beside the source is another statement: a signature does not carry over.
        request.Files["tmp102.rs"] = "pub fn b() {}";
        Assert.NotEqual(stated, Statement(request));
        Assert.DoesNotContain("lang=", Statement(Build()), StringComparison.Ordinal);
        Assert.DoesNotContain("files_sha256", Statement(Build()), StringComparison.Ordinal);
    }
}

public sealed class AgentCapabilitiesTests
{
    [Fact]
    public void The_auth_challenge_is_not_reported_as_a_capability()
    {
        Assert.True(Wasmorch.Protocol.Agent.AgentLineParser.TryParse(
            "HELLO_OK proto=1 agent=a/1 board=b runtime=r/1 modes=wasm max_module=1 extensions=PING,AUTH auth_nonce=000102030405060708090a0b0c0d0e0f"u8, out var hello, out _));
        var capabilities = Wasmorch.Protocol.Agent.AgentCapabilities.FromHello(hello!);
        Assert.True(capabilities.Offers("AUTH"));
        Assert.False(capabilities.Fields.ContainsKey("auth_nonce"));
    }
}
