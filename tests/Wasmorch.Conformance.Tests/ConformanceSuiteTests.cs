using Microsoft.Extensions.Logging.Abstractions;
using Wasmorch.Emulator;
using Wasmorch.Transport;

namespace Wasmorch.Conformance.Tests;

/// <summary>The suite passes a conforming agent, skips what a baseline agent lacks, and catches each violation.</summary>
public sealed class ConformanceSuiteTests : IAsyncLifetime
{
    private EmulatorHost _host = null!;
    private int _boards;

    public Task InitializeAsync()
    {
        _host = new EmulatorHost(NullLoggerFactory.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static readonly byte[] LinkKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);

    /// <summary>A board with a link key (as `emulate` makes them), or an open seed-baseline one.</summary>
    private int NewBoard(bool baseline = false) =>
        _host.AddBoard(new BoardOptions { Name = $"b{++_boards}", Port = 0, Baseline = baseline, LinkKey = baseline ? null : LinkKey }).LocalEndpoint.Port;

    private static Task<ConformanceReport> RunAsync(int port, params string[] only) => RunAsync(port, LinkKey, only);

    private static Task<ConformanceReport> RunAsync(int port, byte[]? key, params string[] only) =>
        new ConformanceRunner(new TcpDeviceLink("127.0.0.1", port, TimeSpan.FromSeconds(2)), key)
            .RunAsync(only.Length == 0 ? null : name => only.Contains(name), null, CancellationToken.None);

    private static string Describe(ConformanceReport report) =>
        string.Join('\n', report.Results.Where(r => r.Outcome != CaseOutcome.Pass).Select(r => $"{r.Outcome} {r.Name}: {r.Message}"));

    [Fact]
    public async Task The_emulator_passes_every_case()
    {
        var report = await RunAsync(NewBoard());
        Assert.True(report.Failed == 0 && report.Warned == 0 && report.Skipped == 0, Describe(report));
        Assert.Equal(ConformanceRunner.Cases.Count + 1, report.Passed);
    }

    [Fact]
    public async Task A_baseline_agent_passes_with_the_extension_cases_skipped()
    {
        var report = await RunAsync(NewBoard(baseline: true));
        Assert.True(report.Failed == 0, Describe(report));
        Assert.Equal(["adc_counts", "auth_fresh_nonce_per_hello", "auth_wrong_key_refused", "caps_lists_capabilities", "caps_not_offered_refused_at_load", "events_flood_limited_and_counted", "events_published", "i2c0_checks_its_arguments", "kv_outlives_the_job", "log_dropped_counted", "log_lines", "natives_refuse_memory_outside_the_module", "ping", "pwm_set_shows_in_status", "sim_edge_wakes_gpio_wait_edge", "status_full_module_table", "stop_backstop_aot", "timer_ticks", "unload", "xload_acknowledges_every_half_window", "xload_lzss1_loads_and_runs", "xload_malformed_stream", "xload_resumes_after_a_stall"], report.Results.Where(r => r.Outcome == CaseOutcome.Skip).Select(r => r.Name).Order());
        Assert.Contains("seed-baseline", report.Results[0].Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string, string> Violations => new()
    {
        // violation name, case that must fail, words its message must contain, line rewrite (see Rewrite)
        { "accepts a bad CRC", "load_crc_mismatch", "CRC_MISMATCH", "crc" },
        { "no LINE_TOO_LONG", "over_long_line", "LINE_TOO_LONG", "long" },
        { "wrong arithmetic", "start_add", "add(10,15)", "value" },
        { "STOP never ends the job", "status_and_stop_while_running", "exactly one RESULT", "stopped" },
        { "immediate errors carry a job", "no_module_no_func", "without job=", "job" },
        { "loses a reply under load", "back_to_back_1000", "in order", "drop" },
        { "incomplete HELLO_OK", "hello", "HELLO_OK lacks", "hello" },
        { "oversized lines", "status_idle", "256", "pad" },
        { "a non-ASCII byte in a reply", "status_idle", "byte 0xe9 at offset", "latin1" },
        { "a running module can be replaced", "status_and_stop_while_running", "LOAD of the running module is ERR code=BUSY", "replace" },
    };

    private static Func<string, string?> Rewrite(string kind)
    {
        var statusCount = 0;
        return kind switch
        {
            "crc" => l => l.Contains("code=CRC_MISMATCH", StringComparison.Ordinal) ? "LOAD_OK module_id=cf_load size=1 crc32=00000000" : l,
            "long" => l => l.Replace("LINE_TOO_LONG", "BAD_COMMAND", StringComparison.Ordinal),
            "value" => l => l.Replace("value=25", "value=26", StringComparison.Ordinal),
            "stopped" => l => l.Contains("status=STOPPED", StringComparison.Ordinal) ? null : l,
            "job" => l => l.StartsWith("RESULT", StringComparison.Ordinal) && !l.Contains("job=", StringComparison.Ordinal) ? l + " job=99" : l,
            "drop" => l => l.StartsWith("STATUS", StringComparison.Ordinal) && ++statusCount == 300 ? null : l,
            "hello" => l => l.StartsWith("HELLO_OK", StringComparison.Ordinal) ? "HELLO_OK proto=1" : l,
            "pad" => l => l.StartsWith("STATUS", StringComparison.Ordinal) ? l + " pad=" + new string('x', 300) : l,
            // é as one Latin-1 byte (0xe9): a suite that decoded before judging would see a '?' and pass it.
            "latin1" => l => l.StartsWith("STATUS", StringComparison.Ordinal) ? l + " note=caf\u00e9" : l,
            // The agent refused to replace its running module (ERR BUSY); the suite is told it was ready to.
            "replace" => l => l.StartsWith("ERR code=BUSY", StringComparison.Ordinal) ? "LOAD_READY module_id=cf_blink" : l,
            "no_log_count" => l => l.Replace(" log_dropped=0", "", StringComparison.Ordinal),
            "reset" => l => l.Contains("code=CRC_MISMATCH", StringComparison.Ordinal) ? ViolatingAgent.Reset : l,
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    [Theory]
    [MemberData(nameof(Violations))]
    public async Task Each_violation_fails_its_case_naming_the_rule(string violation, string failingCase, string words, string kind)
    {
        await using var broken = new ViolatingAgent(NewBoard(), Rewrite(kind));
        var report = await RunAsync(broken.Port, failingCase);
        var result = report.Results.Single(r => r.Name == failingCase);
        Assert.True(result.Outcome == CaseOutcome.Fail, $"{violation}: {failingCase} should fail\n{Describe(report)}");
        Assert.Contains(words, result.Message, StringComparison.Ordinal);
        Assert.Contains("§", result.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The whole suite against a seed-baseline agent that breaks one rule: exactly the case that
    /// checks that rule fails. Every other case starts from a clean agent (jobs stopped and their
    /// RESULT awaited, modules unloaded where offered), so nothing cascades.
    /// </summary>
    [Theory]
    [InlineData("replace", "status_and_stop_while_running")]
    [InlineData("value", "start_add")]
    [InlineData("crc", "load_crc_mismatch")]
    [InlineData("long", "over_long_line")]
    public async Task A_baseline_agent_breaking_one_rule_fails_exactly_that_case(string kind, string failingCase)
    {
        await using var broken = new ViolatingAgent(NewBoard(baseline: true), Rewrite(kind));
        var report = await RunAsync(broken.Port);
        Assert.Equal([failingCase], report.Results.Where(r => r.Outcome == CaseOutcome.Fail).Select(r => r.Name));
    }

    [Fact]
    public async Task Without_the_link_key_an_agent_that_requires_auth_is_reported_not_checked()
    {
        var report = await RunAsync(NewBoard(), (byte[]?)null);
        var hello = report.Results[0];
        Assert.Equal(("hello", CaseOutcome.Fail), (hello.Name, hello.Outcome));
        Assert.Contains("--link-key", hello.Message, StringComparison.Ordinal);
        Assert.All(report.Results.Skip(1).Where(r => r.Outcome != CaseOutcome.Skip), r => Assert.StartsWith("not run: the agent requires link authentication", r.Message, StringComparison.Ordinal));
    }

    /// <summary>Finding 13 of issue 14: an agent that resets the connection crashed the suite (unhandled IOException, exit 1).</summary>
    [Fact]
    public async Task An_agent_that_resets_the_link_fails_the_case_and_the_suite_stops_cleanly()
    {
        await using var broken = new ViolatingAgent(NewBoard(), Rewrite("reset"));
        var report = await RunAsync(broken.Port);
        var reset = report.Results.Single(r => r.Name == "load_crc_mismatch");
        Assert.Equal(CaseOutcome.Fail, reset.Outcome);
        Assert.Contains("reset the link", reset.Message, StringComparison.Ordinal);
        var after = report.Results.SkipWhile(r => r.Name != "load_crc_mismatch").Skip(1).Where(r => r.Outcome != CaseOutcome.Skip).ToList();
        Assert.NotEmpty(after);
        Assert.All(after, r => Assert.StartsWith("not run: after case load_crc_mismatch", r.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_broken_should_rule_is_a_warning_not_a_failure()
    {
        await using var broken = new ViolatingAgent(NewBoard(), Rewrite("no_log_count"));
        var report = await RunAsync(broken.Port);
        Assert.Equal(0, report.Failed);
        var warned = Assert.Single(report.Results, r => r.Outcome == CaseOutcome.Warn);
        Assert.Equal(("log_dropped_counted", RuleLevel.Should), (warned.Name, warned.Level));
        Assert.Contains("SHOULD count them", warned.Message, StringComparison.Ordinal);
    }
}
