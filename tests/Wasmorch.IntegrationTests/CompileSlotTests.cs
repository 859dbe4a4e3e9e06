using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Wasmorch.Protocol.HostApi;
using Wasmorch.Testing;

namespace Wasmorch.IntegrationTests;

/// <summary>Finding 6 of issue 14: every request got its own compiler; now compiles take turns within a bound.</summary>
public sealed class CompileSlotTests
{
    [Fact]
    public async Task Beyond_the_parallel_bound_a_build_waits_its_turn_and_is_told_so()
    {
        var config = Path.Combine(Path.GetTempPath(), $"wasmorch-slots-{Guid.NewGuid():n}.toml");
        await File.WriteAllTextAsync(config, "[build]\nmax_parallel = 1\ntimeout_ms = 3000\n");
        try
        {
            await using var system = new SystemUnderTest();
            system.StartBoard("nucleo", 0);
            system.GatewayArgs.AddRange(["--config", config]);
            system.StartGateway();
            using var tcp = await system.ConnectHostAsync();
            var stream = tcp.GetStream();
            // A macro bomb holds the one slot until the compile deadline; a normal build asked right after must wait.
            var bomb = new HostRequest
            {
                Id = 1, Op = HostOps.BuildAndDeploy, Device = "nucleo", ModuleId = "bomb", SourceName = "bomb.c", Progress = true,
                Source = "#define A(x) x x x x x x x x x x\n#define B(x) A(A(A(A(A(A(A(A(x))))))))\nB(int y;)\n",
            };
            var normal = new HostRequest
            {
                Id = 2, Op = HostOps.BuildAndDeploy, Device = "nucleo", ModuleId = "math", SourceName = "math.c", Progress = true,
                Source = await File.ReadAllTextAsync(RepoPaths.Module("math_ops.c")) + $"\n/* {Guid.NewGuid():n} */\n",
            };
            await stream.WriteAsync((byte[])[.. HostJson.Serialize(bomb), (byte)'\n']);
            await Task.Delay(500);
            await stream.WriteAsync((byte[])[.. HostJson.Serialize(normal), (byte)'\n']);

            using var reader = new StreamReader(stream, Encoding.UTF8);
            var seen = new List<(long Id, string? Event, bool Ok, string? Message)>();
            while (seen.Count(s => s.Event is null) < 2)
            {
                var line = await reader.ReadLineAsync() ?? throw new EndOfStreamException();
                var root = JsonDocument.Parse(line).RootElement;
                seen.Add((root.GetProperty("id").GetInt64(), root.TryGetProperty("event", out var e) ? e.GetString() : null,
                    root.GetProperty("ok").GetBoolean(), root.TryGetProperty("message", out var m) ? m.GetString() : null));
            }
            var queued = Assert.Single(seen, s => s.Event == "queued");
            Assert.Equal(2, queued.Id);
            Assert.Equal("waiting for a compile slot: 1 build(s) ahead", queued.Message);
            Assert.False(seen.Single(s => s.Id == 1 && s.Event is null).Ok);
            Assert.True(seen.Single(s => s.Id == 2 && s.Event is null).Ok);
        }
        finally
        {
            File.Delete(config);
        }
    }
}
