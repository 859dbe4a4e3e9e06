using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Wasmorch.Emulator;
using Wasmorch.Gateway.Devices;
using Wasmorch.Transport;

namespace Wasmorch.Bench;

/// <summary>
/// A 32 KiB module uploaded through the gateway's session to an emulated board on a real tty at
/// 115200 baud, against the wire's floor: size × 10 bits / 115200 (8N1).
/// </summary>
public static class SerialUploadBench
{
    public static async Task<BenchResult> RunAsync(int baud = 115200, int size = 32 * 1024)
    {
        var module = Modules.OfSize(size);
        var dir = Directory.CreateTempSubdirectory("wasmorch-bench-pty-").FullName;
        using var socat = Process.Start("socat", [$"pty,raw,echo=0,link={dir}/gw", $"pty,raw,echo=0,link={dir}/board"])!;
        try
        {
            for (var i = 0; i < 100 && !File.Exists($"{dir}/board"); i++)
            {
                await Task.Delay(20);
            }
            await using var emulator = new EmulatorHost(NullLoggerFactory.Instance);
            emulator.AddSerialBoard(new BoardOptions { Name = "bench", MaxModuleBytes = 64 * 1024 }, $"{dir}/board", baud);
            if (!DeviceEndpoint.TryParse($"serial://{dir}/gw?baud={baud}", out var endpoint, out var error))
            {
                throw new InvalidOperationException(error);
            }
            await using var session = new DeviceSession("bench", DeviceLinks.Create(endpoint, TimeSpan.FromSeconds(2)), TimeSpan.FromSeconds(10), NullLogger.Instance);
            await session.StatusAsync(CancellationToken.None);
            var runs = new List<double>();
            for (var i = 0; i < 3; i++)
            {
                var reply = await session.LoadAsync("bench", module, CancellationToken.None);
                if (reply.Line.Verb != "LOAD_OK")
                {
                    throw new InvalidOperationException($"upload failed: {reply.Line}");
                }
                runs.Add(reply.Transfer.TotalSeconds);
            }
            runs.Sort();
            var measured = runs[1];
            var wire = module.Length * 10.0 / baud;
            // As rates: the wire's bytes per second is the baseline we cannot beat.
            return new BenchResult($"upload {module.Length / 1024} KiB over a tty at {baud} baud (median of 3)",
                module.Length / measured / 1024, "KiB/s", "wire floor", module.Length / wire / 1024, 0.95, HigherIsBetter: true,
                Notes: $"{measured:0.000} s vs {wire:0.000} s on the wire");
        }
        finally
        {
            socat.Kill();
            await socat.WaitForExitAsync();
        }
    }
}
