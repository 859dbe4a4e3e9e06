using System.Text;
using Wasmorch.Protocol.Agent;
using Wasmorch.Protocol.Agent.Replies;

namespace Wasmorch.Protocol.Tests;

/// <summary>Agent replies are parsed once, here, into typed answers or typed refusals: no handler re-reads a line's keys.</summary>
public sealed class AgentRepliesTests
{
    private static AgentLine Line(string text) =>
        AgentLineParser.TryParse(Encoding.ASCII.GetBytes(text), out var line, out var error) ? line! : throw new FormatException(error.ToString());

    [Fact]
    public void Status_gives_what_runs_and_what_the_board_holds()
    {
        var status = StatusReport.Parse(Line("STATUS state=RUNNING module=m func=f job=7 modules=m,n uptime_ms=42 module_crcs=m:ABCDEF01,n:00000002")).Answer;
        Assert.Equal(("RUNNING", "m", "f", 7L, 42L), (status.State, status.ModuleId, status.Func, status.Job, status.UptimeMs));
        Assert.Equal(new Dictionary<string, string> { ["m"] = "abcdef01", ["n"] = "00000002" }, status.ModuleCrcs);
        Assert.Equal("m,n", status.ModulesText);
    }

    [Fact]
    public void A_baseline_status_has_no_job_and_holds_nothing_it_says()
    {
        var status = StatusReport.Parse(Line("STATUS state=IDLE module=- func=- job=- modules=- uptime_ms=5")).Answer;
        Assert.Equal(("IDLE", (string?)null, (string?)null, (long?)null), (status.State, status.ModuleId, status.Func, status.Job));
        Assert.Empty(status.ModuleCrcs);
    }

    [Fact]
    public void An_error_line_is_a_typed_refusal_not_an_answer()
    {
        var reply = StatusReport.Parse(Line("ERR code=BUSY msg=\"a job runs\""));
        Assert.False(reply.Ok);
        Assert.Equal(new AgentError("BUSY", "a job runs"), reply.Error);
        Assert.Throws<InvalidOperationException>(() => reply.Answer);
    }

    [Fact]
    public void A_start_refused_with_a_result_line_names_its_status_as_the_code()
    {
        Assert.Equal(new AgentError("NO_FUNC", "no export f"), AgentError.From(Line("RESULT module_id=m func=f status=NO_FUNC msg=\"no export f\"")));
    }

    [Fact]
    public void A_result_keeps_its_value_exactly_as_sent()
    {
        var result = JobResult.Parse(Line("RESULT module_id=m func=f job=3 status=OK value=9007199254740993 type=i64 elapsed_us=12"));
        Assert.Equal((3L, "m", "f", JobState.Ok, 12L), (result.Job, result.ModuleId, result.Func, result.State, result.ElapsedUs));
        Assert.Equal(new ResultValue("9007199254740993", "i64"), result.Value);
        Assert.True(result.Value!.TryGetInt64(out var exact));
        Assert.Equal(9007199254740993L, exact);
        Assert.False(result.Value.Is(9007199254740992L));
    }

    [Theory]
    [InlineData("OK", JobState.Ok)]
    [InlineData("TRAP", JobState.Trap)]
    [InlineData("STOPPED", JobState.Stopped)]
    [InlineData("HALTED", JobState.Other)]
    public void A_result_status_becomes_a_job_state_and_its_text_is_kept(string status, JobState state)
    {
        var result = JobResult.Parse(Line($"RESULT module_id=m func=f job=1 status={status}"));
        Assert.Equal((state, status), (result.State, result.StatusText));
        Assert.Equal(state == JobState.Other ? "OTHER" : status, JobStates.Name(result.State));
    }

    [Fact]
    public void Stop_and_load_replies_are_typed()
    {
        Assert.Equal(new StopReport("PENDING", 4), StopReport.Parse(Line("STOP_OK module_id=m status=PENDING job=4")).Answer);
        Assert.True(StopReport.Parse(Line("STOP_OK module_id=m status=PENDING job=4")).Answer.Pending);
        Assert.Equal(new LoadReport("0a0b0c0d", 8, 120), LoadReport.Parse(Line("LOAD_OK module_id=m size=8 crc32=0a0b0c0d verify_us=120")).Answer);
        Assert.Equal("CRC_MISMATCH", LoadReport.Parse(Line("LOAD_ERR module_id=m code=CRC_MISMATCH msg=\"bad\"")).Error?.Code);
    }

    [Fact]
    public void Only_a_well_formed_event_is_an_event()
    {
        var published = EventReport.Parse(Line("EVENT module_id=m job=2 uptime_ms=9 topic=temp data=3232"));
        Assert.NotNull(published);
        Assert.Equal(("m", 2L, 9L, "temp"), (published.ModuleId, published.Job, published.UptimeMs, published.Topic));
        Assert.Equal("22"u8.ToArray(), published.Data);
        Assert.Null(EventReport.Parse(Line("EVENT module_id=m job=2 uptime_ms=9 topic=temp data=zz")));
        Assert.Null(EventReport.Parse(Line("EVENT module_id=m uptime_ms=9 topic=temp data=-")));
    }
}
