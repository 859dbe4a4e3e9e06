namespace Wasmorch.Gateway.Links;

/// <summary>
/// A way to reach a device's byte stream. Transports differ only here: the session above speaks
/// the same protocol over whatever stream this returns.
/// </summary>
public interface IDeviceLink
{
    string Description { get; }

    /// <summary>Opens the stream or throws <see cref="GatewayException"/> (DEVICE_UNREACHABLE) saying why.</summary>
    Task<Stream> OpenAsync(CancellationToken ct);
}
