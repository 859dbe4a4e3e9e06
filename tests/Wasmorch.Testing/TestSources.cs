namespace Wasmorch.Testing;

public static class TestSources
{
    /// <summary>
    /// A module of about 48 KiB: a table of 12,000 words starting at <paramref name="first"/>, and
    /// <c>at(i)</c> to read it. At 115200 baud its upload takes about four seconds.
    /// </summary>
    public static async Task<string> BigTableAsync(string dir, int first)
    {
        var path = Path.Combine(dir, "big.c");
        await File.WriteAllTextAsync(path, "#include \"wasmorch.h\"\nstatic const int32_t t[12000] = {" + string.Join(',', Enumerable.Range(first, 12000)) +
            "};\nWASMORCH_EXPORT(\"at\") int32_t at(int32_t i) { return t[(uint32_t)i % 12000u]; }\n");
        return path;
    }
}
