namespace Wasmorch.Gateway.Build;

/// <summary>The Wasmorch natives for each language (modules/include/), embedded in the gateway so a build never reads them from disk.</summary>
internal static class Bindings
{
    public static byte[] Read(string name)
    {
        using var stream = typeof(Bindings).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{name} is not embedded in the gateway");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
