namespace Wasmorch.Protocol.Agent;

/// <summary>
/// How modules are precompiled for a WAMR board's <c>aot_target</c> (HELLO_OK): wamrc's flags, in
/// one place for the gateway's builds and the conformance suite's AOT cases.
/// </summary>
/// <remarks>
/// No wamrc flag makes WAMR 2.4.3's AOT code stoppable: its compiler emits the suspend-flag checks
/// (<c>--enable-multi-thread</c>) only for modules whose memory is shared, which the boards do not
/// run. The firmware stops AOT code that loops without calls by aborting its RUNNER thread instead
/// (firmware/agent/src/runner.c); the conformance case <c>stop_backstop_aot</c> checks it.
/// </remarks>
public static class WamrAot
{
    /// <summary>wamrc's flags for a WAMR AOT target (facts: thumbv7m is rejected; Cortex-M3 is thumbv7), or null for a target WAMR boards do not name.</summary>
    public static IReadOnlyList<string>? WamrcArguments(string aotTarget) => aotTarget switch
    {
        "thumbv7em" => ["--target=thumbv7em", "--target-abi=gnu", "--cpu=cortex-m4"],
        "thumbv7" => ["--target=thumbv7", "--target-abi=gnu", "--cpu=cortex-m3"],
        _ => null,
    };
}
