using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using NATS.Client.ObjectStore;
using NATS.Net;
using Wasmorch.Gateway;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Fleet;

/// <summary>
/// Artifacts shared in the fleet (docs/fleet.md): what a gateway builds goes to the object store
/// <c>wasmorch_&lt;fleet&gt;_artifacts</c> under its cache key, signed, so the others fetch it
/// instead of compiling it again; one no gateway of the fleet signed is built here instead.
/// </summary>
public sealed partial class NatsFleet
{
    /// <summary>
    /// Runs a JetStream call, and once more when the server did not answer it: a cluster that has
    /// just lost a node leaves requests unanswered while it elects new leaders (seconds).
    /// </summary>
    private static async Task<T> AgainIfUnansweredAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (NatsJSApiNoResponseException)
        {
            return await call();
        }
    }

    public async Task<byte[]?> FetchAsync(string key, CancellationToken ct)
    {
        if (_artifacts is null)
        {
            return null;
        }
        try
        {
            // The store's digest only says the bytes are what was written; the signature says a gateway of the fleet wrote them.
            var stored = await AgainIfUnansweredAsync(() => _artifacts.GetBytesAsync(key, ct).AsTask());
            var opened = _trust.Open(ArtifactBinding(key), stored, FleetSigners.Gateways, fresh: false);
            LogFetched(_logger, key, opened.Payload.Length, opened.Signer);
            return opened.Payload;
        }
        catch (NatsObjNotFoundException)
        {
            return null;
        }
        catch (FleetTrustException ex)
        {
            // Native code no gateway of the fleet vouches for is never run: it is built here instead.
            LogArtifactRefused(_logger, key, ex.Message);
            return null;
        }
        catch (NatsException ex)
        {
            LogSharedFailed(_logger, "fetch", key, ex.Message);
            return null;
        }
    }

    /// <summary>What an artifact is signed for: its bucket and cache key, so it cannot stand in for another.</summary>
    private string ArtifactBinding(string key) => $"object wasmorch_{_fleet}_artifacts {key}";

    public async Task PublishAsync(string key, byte[] artifact, CancellationToken ct)
    {
        if (_artifacts is null)
        {
            return;
        }
        try
        {
            var sealedArtifact = _trust.Seal(ArtifactBinding(key), artifact);
            await AgainIfUnansweredAsync(() => _artifacts.PutAsync(key, sealedArtifact, ct).AsTask());
        }
        catch (NatsException ex)
        {
            LogSharedFailed(_logger, "publish", key, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Fleet: artifact {Key} ({Bytes} bytes) fetched from the fleet, not compiled (signed by {Signer})")]
    private static partial void LogFetched(ILogger logger, string key, int bytes, string signer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: artifact {Key} in the fleet's store is refused ({Reason}); it is built here instead")]
    private static partial void LogArtifactRefused(ILogger logger, string key, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Fleet: could not {Action} artifact {Key}: {Reason}; it is compiled here instead")]
    private static partial void LogSharedFailed(ILogger logger, string action, string key, string reason);
}
