using System.Threading.Channels;

namespace Wasmorch.Gateway.Api.Ops;

/// <summary>
/// A followed stream (logs, published events) of this gateway's own entries merged with what the
/// other gateways of a fleet publish, as each comes; bounded, a slow follower loses the oldest.
/// </summary>
internal static class FleetFollow
{
    public static async IAsyncEnumerable<T> MergeAsync<T>(
        Func<CancellationToken, IAsyncEnumerable<T>> local,
        Func<CancellationToken, IAsyncEnumerable<T>>? remote,
        Func<T, bool> wanted,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        if (remote is null)
        {
            await foreach (var entry in local(ct))
            {
                yield return entry;
            }
            yield break;
        }
        var merged = Channel.CreateBounded<T>(new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropOldest });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var fromHere = PumpAsync(local(stop.Token), merged.Writer, stop.Token);
        var fromFleet = PumpAsync(remote(stop.Token), merged.Writer, stop.Token);
        try
        {
            await foreach (var entry in merged.Reader.ReadAllAsync(ct))
            {
                if (wanted(entry))
                {
                    yield return entry;
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(fromHere, fromFleet);
        }
    }

    private static async Task PumpAsync<T>(IAsyncEnumerable<T> entries, ChannelWriter<T> into, CancellationToken ct)
    {
        try
        {
            await foreach (var entry in entries.WithCancellation(ct))
            {
                await into.WriteAsync(entry, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The follower went away.
        }
    }
}
