namespace Wasmorch.Transport;

/// <summary>
/// A way to reach a device's byte stream. Transports differ only here: the protocol above speaks
/// the same lines over whatever stream this returns.
/// </summary>
public interface IDeviceLink
{
    string Description { get; }

    /// <summary>Opens the stream or throws <see cref="LinkUnavailableException"/> saying why.</summary>
    Task<Stream> OpenAsync(CancellationToken ct);
}

/// <summary>The device cannot be reached now: nothing listening, no such tty, a port in use.</summary>
public sealed class LinkUnavailableException : Exception
{
    public LinkUnavailableException(string message)
        : base(message)
    {
    }

    public LinkUnavailableException()
    {
    }

    public LinkUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
