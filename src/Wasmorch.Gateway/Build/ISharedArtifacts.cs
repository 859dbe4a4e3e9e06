namespace Wasmorch.Gateway.Build;

/// <summary>
/// Artifacts shared beyond this gateway (a fleet's object store, docs/fleet.md): a module one
/// gateway compiled is fetched by the others under the same cache key, never compiled again.
/// Keys are <see cref="ArtifactCache.Key"/>s, so equal keys mean equal inputs and toolchain.
/// </summary>
public interface ISharedArtifacts
{
    /// <summary>The artifact stored under <paramref name="key"/>, or null (none, or the store is out of reach).</summary>
    Task<byte[]?> FetchAsync(string key, CancellationToken ct);

    /// <summary>Offers an artifact to the others; a failure costs them a compile, nothing more.</summary>
    Task PublishAsync(string key, byte[] artifact, CancellationToken ct);
}
