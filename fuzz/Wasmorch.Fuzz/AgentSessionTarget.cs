using Microsoft.Extensions.Logging.Abstractions;
using Wasmorch.Emulator;
using Wasmorch.Emulator.Agent;
using Wasmorch.Emulator.Runtime;
using Wasmorch.Protocol.Agent;

namespace Wasmorch.Fuzz;

/// <summary>
/// The emulated agent's COMM loop (lines, LOAD handshakes and raw payloads, in any order) fed the
/// input as everything a host ever sends on one link. Every line the agent answers must parse and
/// fit the protocol's line limit; the loop must end when the link does, without an exception other
/// than the link closing mid-payload.
/// </summary>
internal static class AgentSessionTarget
{
    private static readonly WasmRuntime Runtime = new();

    public static void Run(byte[] input)
    {
        using var board = new Board(new BoardOptions
        {
            Name = "fuzz",
            AllowPrecompiled = false,
            LoadTimeout = TimeSpan.FromMilliseconds(50),
            StopGracePeriod = TimeSpan.FromMilliseconds(20),
        }, Runtime, NullLogger.Instance);
        var link = new ScriptedLink(input);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            using var connection = new AgentConnection(board, NullLogger.Instance);
            connection.RunAsync(link, deadline.Token).GetAwaiter().GetResult();
        }
        catch (IOException ex) when (ex.Message.StartsWith("link closed after", StringComparison.Ordinal))
        {
            // The input ended inside a LOAD payload: the link closing is the expected outcome.
        }
        FuzzTargets.Check(!deadline.IsCancellationRequested, "the COMM loop did not end within 5 s of its link closing");
        if (board.Runner.Current is { } job)
        {
            board.Runner.RequestStop(job.ModuleId);
        }
        foreach (var line in link.Replies())
        {
            FuzzTargets.Check(line.Length < ProtocolLimits.MaxLineLength, $"a reply of {line.Length} bytes");
            FuzzTargets.Check(AgentLineParser.TryParse(line, out _, out var error), $"a reply that does not parse ({error}): {System.Text.Encoding.ASCII.GetString(line)}");
        }
    }

    /// <summary>A link whose far end sent <c>input</c> and then hung up; what the agent writes is kept.</summary>
    private sealed class ScriptedLink(byte[] input) : Stream
    {
        private readonly MemoryStream _in = new(input, writable: false);
        private readonly MemoryStream _out = new();

        public IEnumerable<byte[]> Replies()
        {
            var bytes = _out.ToArray();
            var start = 0;
            for (var i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] == '\n')
                {
                    yield return bytes[start..i];
                    start = i + 1;
                }
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => _in.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _in.ReadAsync(buffer, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (_out)
            {
                _out.Write(buffer, offset, count);
            }
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            lock (_out)
            {
                _out.Write(buffer.Span);
            }
            return ValueTask.CompletedTask;
        }

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
