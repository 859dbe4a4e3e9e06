using System.Text.RegularExpressions;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;
using NATS.Net;
using Wasmorch.Gateway;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli.Client;

/// <summary>
/// A fleet address whose fleet is not on its NATS server (<c>nats://host:4222</c> asks fleet
/// "default"): the error names the fleet asked for, says when the address named none, and lists
/// the fleets the server does have, instead of JetStream's "stream not found".
/// </summary>
public static partial class FleetsOnServer
{
    /// <summary>The error to give for <paramref name="failed"/>, an observer's failure to open the fleet; itself when the fleet is not the trouble.</summary>
    public static async Task<GatewayException> ExplainAsync(FleetAddress address, string url, GatewayException failed, CancellationToken ct)
    {
        var fleets = await ListAsync(url, ct);
        if (fleets is null || fleets.Contains(address.Fleet))
        {
            // The server out of reach, or the fleet there after all: the first error says what happened.
            return failed;
        }
        var asked = address.FleetNamed
            ? $"no fleet '{address.Fleet}' at {address.NatsUrl}"
            : $"no fleet '{address.Fleet}' at {address.NatsUrl}: the address names no fleet, so 'default' was asked (add ?fleet=<name>: {address.NatsUrl}?fleet={fleets.FirstOrDefault() ?? "lab"})";
        var there = fleets.Count == 0 ? "no fleet has a gateway there yet" : $"fleets there: {string.Join(", ", fleets)}";
        return new GatewayException(HostErrorCodes.BadRequest, $"{asked}; {there}");
    }

    /// <summary>The fleets with a device bucket on the server, by name; null when the server cannot be asked.</summary>
    private static async Task<List<string>?> ListAsync(string url, CancellationToken ct)
    {
        try
        {
            await using var nats = new NatsConnection(NatsOpts.Default with { Url = url, Name = $"wasmorch-cli-{Environment.ProcessId}" });
            await nats.ConnectAsync();
            var fleets = new List<string>();
            await foreach (var bucket in nats.CreateKeyValueStoreContext().GetBucketNamesAsync(ct))
            {
                if (DeviceBucket().Match(bucket) is { Success: true } match)
                {
                    fleets.Add(match.Groups[1].Value);
                }
            }
            fleets.Sort(StringComparer.Ordinal);
            return fleets;
        }
        catch (Exception ex) when (ex is NatsException or NatsJSException)
        {
            return null;
        }
    }

    [GeneratedRegex("^wasmorch_(.+)_devices$")]
    private static partial Regex DeviceBucket();
}
