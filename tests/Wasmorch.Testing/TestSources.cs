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

    /// <summary>
    /// A module holding <paramref name="words"/> random words (from <paramref name="seed"/>) as data,
    /// and <c>sum()</c> adding them as u32: its path (a fresh temporary file) and the sum it must return.
    /// </summary>
    public static async Task<(string Path, int Sum)> SumTableAsync(int words, int seed)
    {
        var random = new Random(seed);
        var table = Enumerable.Range(0, words).Select(_ => random.Next(int.MinValue, int.MaxValue)).ToArray();
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"sum_table_{Guid.NewGuid():n}.c");
        await File.WriteAllTextAsync(path, "#include \"wasmorch.h\"\nstatic const int32_t table[] = {" + string.Join(',', table) +
            "};\nWASMORCH_EXPORT(\"sum\") int32_t sum(void) { uint32_t s = 0; for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++) s += (uint32_t)table[i]; return (int32_t)s; }\n");
        return (path, unchecked((int)table.Aggregate(0u, (s, v) => s + (uint)v)));
    }
}
