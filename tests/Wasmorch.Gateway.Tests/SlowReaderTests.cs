using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Wasmorch.Gateway.Api;
using Wasmorch.Gateway.Build;
using Wasmorch.Gateway.Config;
using Wasmorch.Gateway.Devices;

namespace Wasmorch.Gateway.Tests;

/// <summary>Finding 7 of issue 14: hosts that never read their answers made the gateway hold them without bound.</summary>
public sealed class SlowReaderTests : IDisposable
{
    private readonly string _cache = Directory.CreateTempSubdirectory("wasmorch-cache-").FullName;

    public void Dispose() => Directory.Delete(_cache, true);

    [Fact]
    public async Task A_host_that_stops_reading_is_cut_when_an_answer_cannot_be_written_in_time()
    {
        var config = new GatewayConfig { CacheDirectory = _cache };
        await using var registry = new DeviceRegistry(config, NullLogger.Instance);
        using var build = new BuildService(new ClangCompiler("clang", TimeSpan.FromSeconds(30)), new AotCompiler("wamrc", TimeSpan.FromSeconds(30)), new ArtifactCache(_cache, 1 << 20));
        var dispatcher = new RequestDispatcher(registry, build, config);
        await using var host = new StuckHost("{\"id\":1,\"op\":\"devices\"}\n{\"id\":2,\"op\":\"devices\"}\n");
        using var connection = new HostConnection(host, null, dispatcher, _ => true,
            new ConnectionDeadlines(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(1), TimeSpan.FromMilliseconds(300)), NullLogger.Instance);
        var serve = connection.ServeAsync(CancellationToken.None);
        Assert.Same(serve, await Task.WhenAny(serve, Task.Delay(TimeSpan.FromSeconds(20))));
    }

    /// <summary>A host that sends its requests and then neither reads nor closes: every write blocks until cancelled.</summary>
    private sealed class StuckHost(string requests) : Stream
    {
        private readonly byte[] _requests = Encoding.UTF8.GetBytes(requests);
        private bool _sent;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_sent)
            {
                _sent = true;
                _requests.CopyTo(buffer);
                return _requests.Length;
            }
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            await Task.Delay(Timeout.Infinite, cancellationToken);

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
