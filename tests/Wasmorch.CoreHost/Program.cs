using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Wasmorch.CoreHost;
using Wasmorch.Emulator;
using Wasmorch.Emulator.Runtime;

// The firmware's C core on the host, behind a TCP socket, over an emulated board's runtime:
//   dotnet Wasmorch.CoreHost.dll [--port N] [--baseline] [--link-key FILE] [--rx-ring BYTES]
// prints "core agent listening on tcp://127.0.0.1:PORT" and serves one peer at a time (a UART has
// no other), until killed. `wasmorch conformance tcp://127.0.0.1:PORT` then checks the C core.
var port = args.SkipWhile(a => a != "--port").Skip(1).Select(int.Parse).FirstOrDefault();
var baseline = args.Contains("--baseline");
var linkKey = args.SkipWhile(a => a != "--link-key").Skip(1).Select(Wasmorch.Transport.LinkKeyFile.Load).FirstOrDefault();
using var runtime = new WasmRuntime();
// The board decides what it accepts as the core does: precompiled (native) modules only with a link key.
using var board = new Board(new BoardOptions { Name = "core-host", Port = port, Baseline = baseline, LinkKey = linkKey, StopGracePeriod = TimeSpan.FromMilliseconds(300) }, runtime, NullLogger.Instance);
CoreBoard.Start(board, linkKey);
// --rx-ring: the boards' receive path in front of the core, drained every 20 ms (so bursts overrun it).
if (args.SkipWhile(a => a != "--rx-ring").Skip(1).Select(int.Parse).FirstOrDefault() is > 0 and var ring)
{
    CoreBoard.UseReceivePath(ring);
}

using var poll = new Timer(_ => CoreBoard.Poll(), null, TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(20));
var listener = new TcpListener(IPAddress.Loopback, port);
listener.Start();
Console.WriteLine($"core agent listening on tcp://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
while (true)
{
    using var client = await listener.AcceptTcpClientAsync();
    client.NoDelay = true;
    var stream = client.GetStream();
    CoreBoard.Connect(stream);
    var buffer = new byte[4096];
    try
    {
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            CoreBoard.Feed(buffer.AsSpan(0, read));
        }
    }
    catch (IOException)
    {
        // The peer dropped the link; the next one is accepted below.
    }
    finally
    {
        CoreBoard.Disconnect(stream);
    }
}
