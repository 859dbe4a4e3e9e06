using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Cli.Client;

/// <summary>
/// A request the gateway answers as a stream (<c>logs --follow</c>, <c>events --follow</c>): every
/// response printed as it comes, until Ctrl-C (exit 0) or the gateway goes away.
/// </summary>
public static class Follower
{
    public static async Task<int> RunAsync(string? gateway, string? tlsCa, HostRequest request, Action<HostResponse> print, CancellationToken ct)
    {
        if (!GatewayAddress.TryResolve(gateway, out var address, out var error))
        {
            await Console.Error.WriteLineAsync($"error: {error}");
            return ExitCodes.Usage;
        }
        try
        {
            await using var client = await GatewayClient.ConnectAsync(address, ct, tlsCa);
            request.Follow = true;
            request.Token ??= Environment.GetEnvironmentVariable("WASMORCH_TOKEN");
            await foreach (var response in client.StreamAsync(request, ct))
            {
                if (!response.Ok)
                {
                    await Console.Error.WriteLineAsync($"error: {response.Error?.Code}: {response.Error?.Message}");
                    return ExitCodes.ForError(response.Error?.Code ?? string.Empty);
                }
                print(response);
            }
            return ct.IsCancellationRequested ? ExitCodes.Ok : ExitCodes.GatewayUnreachable;
        }
        catch (GatewayUnreachableException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return ExitCodes.GatewayUnreachable;
        }
    }
}
