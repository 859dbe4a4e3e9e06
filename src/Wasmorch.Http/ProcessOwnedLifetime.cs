using Microsoft.Extensions.Hosting;

namespace Wasmorch.Http;

/// <summary>
/// A host lifetime that takes no signals: the gateway process handles SIGTERM/SIGINT and disposes
/// the HTTP server with everything else. ASP.NET Core's console lifetime would cancel the signal
/// for the whole process and stop only Kestrel, leaving the gateway running (issue 30, item 9).
/// </summary>
internal sealed class ProcessOwnedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
