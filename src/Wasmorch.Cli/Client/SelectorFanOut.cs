using System.Collections.Concurrent;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli.Client;

/// <summary>
/// A device command for every device a selector matches (docs/fleet-ops.md): the device list is
/// asked first, the selector checked against it (a key no device has, or no match at all, is a
/// usage error before anything is sent), then the command goes to each match, at most
/// <c>parallel</c> at a time, one line per device as it ends, and a summary. The exit code is the
/// worst device's.
/// </summary>
public static class SelectorFanOut
{
    public const int DefaultParallel = 8;

    /// <param name="connect">Opens one channel to the gateway or fleet: a request in, its answer out (one at a time per channel).</param>
    /// <param name="perDevice">Finishes each device's copy before it is sent (a signature names its device).</param>
    public static async Task<int> RunAsync(
        string command, Selector selector, HostRequest template, int parallel,
        Func<CancellationToken, Task<Func<HostRequest, Task<(HostResponse Response, TimeSpan Latency)>>>> connect,
        ResponsePrinter printer, CancellationToken ct, Func<HostRequest, Task>? perDevice = null)
    {
        var send = await connect(ct);
        var (listing, _) = await send(new HostRequest { Op = HostOps.Devices, Token = template.Token });
        if (!listing.Ok)
        {
            return printer.Print("devices", listing, TimeSpan.Zero);
        }
        var devices = listing.Devices ?? [];
        var matched = Match(selector, devices);
        var queue = new ConcurrentQueue<string>(matched);
        var worst = ExitCodes.Ok;
        var ok = 0;
        var failed = 0;
        async Task WorkAsync(Func<HostRequest, Task<(HostResponse, TimeSpan)>> channel)
        {
            while (queue.TryDequeue(out var device))
            {
                // A copy per device: the same request, its own device.
                if (!HostJson.TryParseRequest(HostJson.Serialize(template), out var request, out var error))
                {
                    throw new InvalidOperationException($"the request does not read back: {error}");
                }
                request!.Device = device;
                if (perDevice is not null)
                {
                    await perDevice(request);
                }
                var (response, latency) = await channel(request);
                response.Device ??= device;
                var exit = printer.PrintOfMany(command, response, latency);
                lock (queue)
                {
                    worst = Math.Max(worst, exit);
                    _ = exit == ExitCodes.Ok ? ok++ : failed++;
                }
            }
        }
        var workers = new List<Task> { WorkAsync(send) };
        for (var i = 1; i < Math.Min(parallel, matched.Count); i++)
        {
            workers.Add(WorkAsync(await connect(ct)));
        }
        await Task.WhenAll(workers);
        printer.PrintSummary(command, selector.Text, matched.Count, ok, failed, worst);
        return worst;
    }

    /// <summary>The names of the devices <paramref name="selector"/> matches; a usage error when it cannot match anything.</summary>
    public static List<string> Match(Selector selector, IReadOnlyList<DeviceInfo> devices)
    {
        if (selector.ProblemAmong([.. devices.Select(d => d.Labels)]) is { } problem)
        {
            // Every message names the selector; the device list is where to see the labels.
            throw new Commands.UsageException(
                (problem.StartsWith("selector '", StringComparison.Ordinal) ? problem : $"selector '{selector}': {problem}") + " (wasmorch devices lists each device with its labels)");
        }
        return [.. devices.Where(d => selector.Matches(d.Labels)).Select(d => d.Name)];
    }
}
