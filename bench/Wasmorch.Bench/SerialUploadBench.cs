using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Wasmorch.Emulator;
using Wasmorch.Gateway.Build;
using Wasmorch.Gateway.Devices;
using Wasmorch.Testing;
using Wasmorch.Transport;

namespace Wasmorch.Bench;

/// <summary>
/// Uploads through the gateway's session to an emulated board on a real tty at 115200 baud,
/// against the wire's floor (size × 10 bits / baud, 8N1): the baseline LOAD of a 32 KiB module,
/// and XLOAD (docs/protocol.md §6b, lzss1) of real code: math_ops and about 32 KiB of compiled C.
/// Then an XLOAD cut at half its stream, resumed on a new link, against a fresh one.
/// </summary>
public static class SerialUploadBench
{
    private const int Baud = 115200;

    /// <summary>WASMORCH_BENCH_LOG=1 shows the sessions' log (resumes, stray lines) on stderr.</summary>
    private static readonly Microsoft.Extensions.Logging.ILogger Logger = Environment.GetEnvironmentVariable("WASMORCH_BENCH_LOG") == "1"
        ? Microsoft.Extensions.Logging.LoggerFactory.Create(b => Microsoft.Extensions.Logging.ConsoleLoggerExtensions.AddSimpleConsole(b)).CreateLogger("bench")
        : NullLogger.Instance;

    public static async Task<IReadOnlyList<BenchResult>> RunAsync()
    {
        var clang = new ClangCompiler("clang", TimeSpan.FromMinutes(2));
        var mathOps = (await clang.CompileAsync(await File.ReadAllTextAsync(Path.Combine(RepoRoot, "modules", "c", "math_ops.c")), "math_ops.c", CancellationToken.None)).Module;
        var code32 = (await clang.CompileAsync(GeneratedCode(118), "code32.c", CancellationToken.None)).Module;
        var results = new List<BenchResult>();

        await using (var plain = await TtyBoard.StartAsync(xloadWindow: 0))
        {
            var data32 = Modules.OfSize(32 * 1024);
            var seconds = await plain.MedianUploadAsync(data32);
            results.Add(Rate($"LOAD of a 32 KiB module over a tty at {Baud} baud (no XLOAD; median of 3)", data32.Length, seconds, 0.95));
        }
        await using (var board = await TtyBoard.StartAsync(xloadWindow: 960))
        {
            foreach (var (name, module) in new[] { ("math_ops", mathOps), ($"{code32.Length / 1024} KiB of compiled C", code32) })
            {
                var seconds = await board.MedianUploadAsync(module);
                var stream = Wasmorch.Protocol.Modules.Lzss1.Compress(module).Length;
                results.Add(Rate($"XLOAD lzss1 of {name} ({module.Length} bytes, {stream} on the wire) over a tty at {Baud} baud (median of 3)", module.Length, seconds, 1.5));
            }
            var (fresh, resumed) = await board.ResumeAsync(code32);
            results.Add(new BenchResult($"XLOAD of {code32.Length / 1024} KiB resumed after its link dropped at 50% (the rest, on a new link)", resumed * 1000, "ms",
                "a whole fresh XLOAD", fresh * 1000, 0.6, HigherIsBetter: false, Notes: "the board's 2 s stall timeout between the two is not counted"));
        }
        return results;
    }

    private static BenchResult Rate(string name, int bytes, double seconds, double target)
    {
        var wire = bytes * 10.0 / Baud;
        return new BenchResult(name, bytes / seconds / 1024, "KiB/s", "wire floor", bytes / wire / 1024, target, HigherIsBetter: true,
            Notes: $"{seconds:0.000} s vs {wire:0.000} s for the module's bytes on the wire");
    }

    private static string RepoRoot => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."));

    /// <summary>C like a real module: many small exported functions with loops and arithmetic (a fixed seed).</summary>
    private static string GeneratedCode(int functions)
    {
        var random = new Random(7);
        var text = new StringBuilder("#include \"wasmorch.h\"\n");
        string[] ops = ["+", "-", "*", "^", "|", "&"];
        for (var i = 0; i < functions; i++)
        {
            int a = random.Next(1, 1001), b = random.Next(1, 32);
            var op = ops[random.Next(ops.Length)];
            text.Append(System.Globalization.CultureInfo.InvariantCulture,
                $"WASMORCH_EXPORT(\"f{i}\") int32_t f{i}(int32_t x, int32_t y) {{ int32_t s = {a}; for (int32_t k = 0; k < (y & {b}); k++) {{ s = (s {op} x) + k * {a % 97}; if (s > {a * 13}) s -= x {op} {b}; }} return s {op} y; }}\n");
        }
        return text.ToString();
    }

    /// <summary>An emulated board on one end of a pty pair (socat), the gateway's session on the other.</summary>
    private sealed class TtyBoard : IAsyncDisposable
    {
        private readonly PtyPair _pty;
        private readonly EmulatorHost _emulator;

        private TtyBoard(PtyPair pty, EmulatorHost emulator)
        {
            _pty = pty;
            _emulator = emulator;
        }

        public static async Task<TtyBoard> StartAsync(int xloadWindow)
        {
            var pty = await PtyPair.CreateAsync(PtyPair.NewDirectory());
            var emulator = new EmulatorHost(NullLoggerFactory.Instance);
            emulator.AddSerialBoard(new BoardOptions { Name = "bench", MaxModuleBytes = 64 * 1024, XloadWindow = xloadWindow }, pty.BoardSide, Baud);
            return new TtyBoard(pty, emulator);
        }

        private DeviceSession NewSession()
        {
            if (!DeviceEndpoint.TryParse($"serial://{_pty.GatewaySide}?baud={Baud}", out var endpoint, out var error))
            {
                throw new InvalidOperationException(error);
            }
            return new DeviceSession("bench", DeviceLinks.Create(endpoint, TimeSpan.FromSeconds(2)), TimeSpan.FromSeconds(10), Logger);
        }

        /// <summary>The median of 3 uploads' transfer time (XLOAD_READY or LOAD_READY to LOAD_OK), in seconds.</summary>
        public async Task<double> MedianUploadAsync(byte[] module)
        {
            await using var session = NewSession();
            await session.StatusAsync(CancellationToken.None);
            var runs = new List<double>();
            for (var i = 0; i < 3; i++)
            {
                // A module id of its own each time: the board holds the last one already.
                var reply = await session.LoadAsync($"bench{i}", module, CancellationToken.None);
                if (!reply.Reply.Ok)
                {
                    throw new InvalidOperationException($"upload failed: {reply.Reply.Error}");
                }
                runs.Add(reply.Transfer.TotalSeconds);
            }
            runs.Sort();
            return runs[1];
        }

        /// <summary>A fresh XLOAD's time, and the time of the half an XLOAD cut at 50% still had to send.</summary>
        public async Task<(double Fresh, double Resumed)> ResumeAsync(byte[] module)
        {
            double fresh;
            await using (var session = NewSession())
            {
                await session.StatusAsync(CancellationToken.None);
                fresh = (await session.LoadAsync("fresh", module, CancellationToken.None)).Transfer.TotalSeconds;
            }
            await using (var session = NewSession())
            {
                await session.StatusAsync(CancellationToken.None);
                using var cut = new CancellationTokenSource();
                var progress = new Progress<long>(sent =>
                {
                    if (sent >= module.Length / 2)
                    {
                        cut.Cancel();
                    }
                });
                try
                {
                    await session.LoadAsync("cut", module, cut.Token, progress);
                    throw new InvalidOperationException("the upload was meant to be cut at half");
                }
                catch (OperationCanceledException)
                {
                    // The gateway dropped the link mid-stream, as a pulled cable would.
                }
            }
            // The board notices the silence (its stall timeout) and keeps what it took.
            await Task.Delay(TimeSpan.FromSeconds(2.5));
            await using (var session = NewSession())
            {
                await session.StatusAsync(CancellationToken.None);
                var reply = await session.LoadAsync("cut", module, CancellationToken.None);
                if (!reply.Reply.Ok)
                {
                    throw new InvalidOperationException($"resumed upload failed: {reply.Reply.Error}");
                }
                return (fresh, reply.Transfer.TotalSeconds);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _emulator.DisposeAsync();
            await _pty.DisposeAsync();
        }
    }
}
