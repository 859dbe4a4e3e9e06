namespace Wasmorch.Testing;

public static class CliAssert
{
    /// <summary>Fails with the whole of the CLI's output, which is what a reader of a failed test needs.</summary>
    public static void Exit(int expected, CliResult result)
    {
        if (result.ExitCode != expected)
        {
            throw new Xunit.Sdk.XunitException($"expected exit {expected}\n{result}");
        }
    }
}
