using SharpFuzz;
using Wasmorch.Fuzz;

// Usage:
//   Wasmorch.Fuzz <target>                 under afl-fuzz (scripts/fuzz.sh): persistent mode, input on stdin
//   Wasmorch.Fuzz <target> --replay <dir>  runs every file of a corpus once, without afl (regressions)
// A target reports a bug by throwing: afl-fuzz records the input as a crash.
if (args.Length == 0 || !FuzzTargets.All.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine($"usage: Wasmorch.Fuzz <{string.Join('|', FuzzTargets.All.Keys)}> [--replay <dir>]");
    return 2;
}
if (args.Length == 3 && args[1] == "--replay")
{
    var files = Directory.GetFiles(args[2]);
    foreach (var file in files)
    {
        try
        {
            target(File.ReadAllBytes(file));
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"{file}: {ex}");
            return 1;
        }
    }
    Console.WriteLine($"{args[0]}: {files.Length} input(s) replayed, no failure");
    return 0;
}
Fuzzer.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    target(buffer.ToArray());
});
return 0;
