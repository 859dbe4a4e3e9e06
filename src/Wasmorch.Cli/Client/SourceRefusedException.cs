namespace Wasmorch.Cli.Client;

/// <summary>
/// A source that names a file the CLI will not send: an include that leaves the source's folder
/// (an absolute path, <c>..</c>, or a symlink pointing out of it). The gateway compiles what the
/// CLI sends, and its diagnostics print the lines of what it compiled: inlining such a file would
/// hand any readable file of this machine (<c>/etc/passwd</c>) to the gateway and back.
/// </summary>
public sealed class SourceRefusedException : IOException
{
    public SourceRefusedException(string message)
        : base(message)
    {
    }

    public SourceRefusedException()
    {
    }

    public SourceRefusedException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
