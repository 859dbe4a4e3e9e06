using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Wasmorch.Gateway.Api;
using Wasmorch.Gateway.Build;
using Wasmorch.Gateway.Config;
using Wasmorch.Gateway.Devices;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Agent.Replies;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Tests;

/// <summary>
/// Handlers reach a device only through <see cref="IDevice"/> (typed replies, never agent lines): a
/// scripted device stands in for a session, and the deploy pipeline's steps run in order against it.
/// </summary>
public sealed class DeployThroughIDeviceTests : IAsyncDisposable
{
    private static readonly byte[] EmptyModule = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

    private readonly string _cache = Directory.CreateTempSubdirectory("wasmorch-cache-").FullName;
    private readonly DeviceRegistry _registry = new(new GatewayConfig(), NullLogger.Instance);
    private readonly FakeDevice _device = new("far");
    private readonly RequestDispatcher _dispatcher;

    public DeployThroughIDeviceTests()
    {
        var config = new GatewayConfig { CacheDirectory = _cache };
        _registry.Add(_device, "scripted://far");
        var build = new BuildService(new ClangCompiler("clang", TimeSpan.FromSeconds(30)), new AotCompiler("wamrc", TimeSpan.FromSeconds(30)), new ArtifactCache(_cache, 1 << 20));
        _dispatcher = new RequestDispatcher(_registry, build, config);
    }

    public async ValueTask DisposeAsync()
    {
        await _registry.DisposeAsync();
        Directory.Delete(_cache, true);
    }

    private Task<HostResponse> Run(HostRequest request) => _dispatcher.HandleAsync(request, CancellationToken.None);

    [Fact]
    public async Task Status_and_devices_are_served_through_the_interface()
    {
        var status = await Run(new HostRequest { Id = 1, Op = HostOps.Status, Device = "far" });
        Assert.True(status.Ok, status.Error?.Message);
        Assert.Equal("IDLE", status.Status);
        var devices = await Run(new HostRequest { Id = 2, Op = HostOps.Devices });
        var far = Assert.Single(devices.Devices!);
        Assert.Equal(("far", "scripted://far"), (far.Name, far.Endpoint));
    }

    [Fact]
    public async Task A_deploy_checks_the_device_then_uploads_with_how_the_module_was_made()
    {
        var response = await Run(new HostRequest { Id = 3, Op = HostOps.Deploy, Device = "far", ModuleId = "m", Module = Convert.ToBase64String(EmptyModule) });
        Assert.True(response.Ok, response.Error?.Message);
        Assert.Equal(["STATUS", "LOAD m 8 file:as-is"], _device.Calls);
        Assert.False(response.UploadSkipped);
        Assert.Equal(BuildService.Sha256(EmptyModule), response.Sha256);
    }

    [Fact]
    public async Task A_module_the_device_holds_is_not_uploaded_again_and_is_reported_held()
    {
        _device.Held = $"m:{Crc32Hex.Format(Crc32Hex.Compute(EmptyModule))}";
        var response = await Run(new HostRequest { Id = 4, Op = HostOps.Deploy, Device = "far", ModuleId = "m", Module = Convert.ToBase64String(EmptyModule) });
        Assert.True(response.Ok, response.Error?.Message);
        Assert.True(response.UploadSkipped);
        Assert.Equal(["STATUS", "HELD m file:as-is"], _device.Calls);
    }

    [Fact]
    public async Task A_deploy_refused_by_a_check_never_reaches_the_device()
    {
        var response = await Run(new HostRequest { Id = 5, Op = HostOps.Deploy, Device = "far", ModuleId = "m", Module = "not base64!" });
        Assert.Equal(HostErrorCodes.BadRequest, response.Error?.Code);
        var imports = await Run(new HostRequest
        {
            Id = 6, Op = HostOps.Deploy, Device = "far", ModuleId = "m",
            Module = Convert.ToBase64String(Wasmtime.Module.ConvertText("(module (import \"env\" \"launch\" (func)))")),
        });
        Assert.Equal(AgentErrorCodes.InvalidModule, imports.Error?.Code);
        Assert.Empty(_device.Calls);
    }

    /// <summary>Finding 12 of issue 14: the gateway summed nothing; all memories and tables count.</summary>
    [Theory]
    [InlineData(100, "(memory 1)", "INVALID_MODULE", "module defines 100 memories; boards give one")]
    [InlineData(1, "(table 10000000 funcref)", "NO_MEMORY", "module's tables need 10000000 elements; boards give 4096")]
    public async Task Memories_and_tables_are_checked_together_before_upload(int copies, string item, string code, string message)
    {
        var module = Wasmtime.Module.ConvertText("(module " + string.Concat(Enumerable.Repeat(item + " ", copies)) + ")");
        var response = await Run(new HostRequest { Id = 7, Op = HostOps.Deploy, Device = "far", ModuleId = "m", Module = Convert.ToBase64String(module) });
        Assert.Equal((code, message), (response.Error?.Code, response.Error?.Message));
        Assert.Empty(_device.Calls);
    }

    /// <summary>An idle device that holds what <see cref="Held"/> says, answering in the protocol's lines, recording what it was asked.</summary>
    private sealed class FakeDevice(string name) : IDevice
    {
        public List<string> Calls { get; } = [];

        public string Held { get; set; } = "-";

        public string Name => name;

        public bool IsConnected => true;

        public AgentCapabilities? Capabilities { get; } = AgentCapabilities.FromHello(Line("HELLO_OK proto=1 agent=far/1 board=b runtime=r/1 modes=wasm max_module=4096 extensions=PING"));

        private static AgentLine Line(string text) =>
            AgentLineParser.TryParse(Encoding.ASCII.GetBytes(text), out var line, out var error) ? line! : throw new FormatException(error.ToString());

        public Task<AgentCapabilities> CapabilitiesAsync(CancellationToken ct) => Task.FromResult(Capabilities!);

        public Task<AgentReply<StatusReport>> StatusAsync(CancellationToken ct)
        {
            Calls.Add("STATUS");
            return Task.FromResult(StatusReport.Parse(Line($"STATUS state=IDLE module=- func=- job=- modules={(Held == "-" ? "-" : Held.Split(':')[0])} uptime_ms=5 module_crcs={Held}")));
        }

        public Task<AgentReply<PingReport>> PingAsync(CancellationToken ct) => Task.FromResult(PingReport.Parse(Line("PONG uptime_ms=5")));

        public Task<AgentReply<StopReport>> StopAsync(string moduleId, CancellationToken ct) => Task.FromResult(StopReport.Parse(Line($"STOP_OK module_id={moduleId} status=IDLE")));

        public Task<AgentError?> UnloadAsync(string moduleId, CancellationToken ct) => Task.FromResult<AgentError?>(null);

        public Task<AgentReply<SimReport>> SimAsync(SimInputs inputs, CancellationToken ct) => Task.FromResult(SimReport.Parse(Line("SIM_OK gpio=0x0000 temp_mc=22500")));

        public Task<StartReply> StartAsync(string moduleId, string func, string? args, CancellationToken ct) =>
            Task.FromResult(new StartReply(1, null,
                (job, _, _) => Task.FromResult(JobResult.Parse(Line($"RESULT module_id={moduleId} func={func} job={job} status=OK value=3 type=i32 elapsed_us=9")))));

        public Task<LoadReply> LoadAsync(string moduleId, ReadOnlyMemory<byte> bytes, CancellationToken ct, IProgress<long>? progress = null, string artifact = HeldArtifacts.FileAsIs)
        {
            Calls.Add($"LOAD {moduleId} {bytes.Length} {artifact}");
            var crc = Crc32Hex.Format(Crc32Hex.Compute(bytes.Span));
            return Task.FromResult(new LoadReply(LoadReport.Parse(Line($"LOAD_OK module_id={moduleId} size={bytes.Length} crc32={crc}")), TimeSpan.FromMilliseconds(1)));
        }

        public void ReportHeld(HeldModule held) => Calls.Add($"HELD {held.ModuleId} {held.Artifact}");
    }
}
