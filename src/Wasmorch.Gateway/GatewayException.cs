namespace Wasmorch.Gateway;

/// <summary>A failure with a host API error code; the request handler turns it into an error response.</summary>
public sealed class GatewayException : Exception
{
    public GatewayException(string code, string message, string? details = null)
        : base(message)
    {
        Code = code;
        Details = details;
    }

    public GatewayException()
        : this("INTERNAL", "internal error")
    {
    }

    public GatewayException(string message)
        : this("INTERNAL", message)
    {
    }

    public GatewayException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = "INTERNAL";
    }

    public string Code { get; }

    public string? Details { get; }
}
