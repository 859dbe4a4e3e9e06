using Wasmorch.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Wasmorch.Gateway.Devices;
using Wasmorch.Transport;
using Wasmorch.Protocol.HostApi;

namespace Wasmorch.Gateway.Tests;

public sealed class DeviceSessionTests
{
    private static DeviceSession Session(ScriptedAgent agent, int replyTimeoutMs = 2000) =>
        new("dev", new TcpDeviceLink("127.0.0.1", agent.Port, TimeSpan.FromSeconds(2)), TimeSpan.FromMilliseconds(replyTimeoutMs), NullLogger.Instance);

    [Fact]
    public async Task Boot_banner_and_stray_lines_are_skipped_not_taken_as_replies()
    {
        await using var agent = new ScriptedAgent(line => line == "STATUS"
            ? ["*** Booting Zephyr OS ***", "LOG msg=\"noise\"", "STATUS state=IDLE modules=-"]
            : [])
        {
            Greeting = ["\u0001\u0002 garbage", "uart: ready"],
        };
        await using var session = Session(agent);
        var status = await session.StatusAsync(CancellationToken.None);
        Assert.Equal("IDLE", status.Answer.State);
    }

    /// <summary>docs/protocol.md §1: an agent left inside an abandoned payload takes the cancel line as payload.</summary>
    [Fact]
    public async Task A_cancel_line_answered_by_the_end_of_an_abandoned_payload_is_sent_again()
    {
        await using var agent = new ScriptedAgent(line => line == "STATUS" ? ["STATUS state=IDLE modules=-"] : [])
        {
            CancelLineAnswers = n => n == 0 ? ["LOAD_ERR module_id=m code=TIMEOUT msg=\"payload stalled for 2000 ms; back in line mode\""] : [],
        };
        await using var session = Session(agent);
        var status = await session.StatusAsync(CancellationToken.None);
        Assert.Equal("IDLE", status.Answer.State);
        Assert.Equal(2, agent.CancelLines);
        Assert.Equal(["HELLO proto=1", "STATUS"], agent.Received);
    }

    /// <summary>Finding 8 of issue 14: replies that do not answer their command were reported as success.</summary>
    [Theory]
    [InlineData("START", "START_OK module_id=m func=other job=3", "with a reply for function 'other'")]
    [InlineData("START", "START_OK module_id=x func=f job=3", "with a reply for module 'x'")]
    [InlineData("START", "RESULT module_id=m func=f status=OK", "no refusal (status=OK, no job)")]
    [InlineData("STOP", "STOP_OK module_id=x status=IDLE", "with a reply for module 'x'")]
    public async Task A_reply_for_another_command_is_a_protocol_error_and_drops_the_link(string command, string reply, string words)
    {
        await using var agent = new ScriptedAgent(line => line.StartsWith(command, StringComparison.Ordinal) ? [reply] : ["STATUS state=IDLE modules=-"]);
        await using var session = Session(agent);
        var error = await Assert.ThrowsAsync<GatewayException>(async () =>
        {
            if (command == "START")
            {
                await session.StartAsync("m", "f", null, CancellationToken.None);
            }
            else
            {
                await session.StopAsync("m", CancellationToken.None);
            }
        });
        Assert.Equal(HostErrorCodes.ProtocolError, error.Code);
        Assert.Contains(words, error.Message, StringComparison.Ordinal);
        await session.StatusAsync(CancellationToken.None);
        Assert.Equal(2, agent.Connections);
    }

    [Fact]
    public async Task A_load_ok_for_other_bytes_is_not_reported_as_loaded()
    {
        // The "module" ends with LF so that this line-based fake sees the payload as one line.
        var module = "ABCDEFG\n"u8.ToArray();
        await using var agent = new ScriptedAgent(line => line switch
        {
            _ when line.StartsWith("LOAD", StringComparison.Ordinal) => ["LOAD_READY module_id=m"],
            "ABCDEFG" => ["LOAD_OK module_id=m size=8 crc32=00000000"],
            _ => [],
        });
        await using var session = Session(agent);
        var error = await Assert.ThrowsAsync<GatewayException>(() => session.LoadAsync("m", module, CancellationToken.None));
        Assert.Equal(HostErrorCodes.ProtocolError, error.Code);
        Assert.Contains("acknowledged a module other than the one sent", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Finding 11 of issue 14: a deploy the device took was reported INTERNAL when the state file failed.</summary>
    [Fact]
    public async Task A_module_the_device_loaded_is_reported_loaded_even_when_its_record_fails()
    {
        var module = "ABCDEFG\n"u8.ToArray();
        var crc = Wasmorch.Protocol.Agent.Crc32Hex.Format(Wasmorch.Protocol.Agent.Crc32Hex.Compute(module));
        await using var agent = new ScriptedAgent(line => line switch
        {
            _ when line.StartsWith("LOAD", StringComparison.Ordinal) => ["LOAD_READY module_id=m"],
            "ABCDEFG" => [$"LOAD_OK module_id=m size=8 crc32={crc}"],
            _ => [],
        });
        await using var session = new DeviceSession("dev", new TcpDeviceLink("127.0.0.1", agent.Port, TimeSpan.FromSeconds(2)), TimeSpan.FromSeconds(2),
            NullLogger.Instance, new FailingRecorder());
        var reply = await session.LoadAsync("m", module, CancellationToken.None);
        Assert.Equal(crc, reply.Reply.Answer.Crc32);
        Assert.Contains("the device loaded the module, but the gateway could not record it in its state file (disk full)", reply.RecordWarning, StringComparison.Ordinal);
    }

    /// <summary>A state file whose writes fail (a full disk).</summary>
    private sealed class FailingRecorder : IDeviceObserver
    {
        public void Mapped(string device, string endpoint)
        {
        }

        public void Connected(string device, string agent)
        {
        }

        public void JobStarted(string device, long job, string moduleId, string func, string? args)
        {
        }

        public void JobEnded(string device, long job, Wasmorch.Protocol.Agent.Replies.JobResult result)
        {
        }

        public void Reset(string device, string reason)
        {
        }

        public void LinkLost(string device, string reason)
        {
        }

        public void StatusReported(string device, Wasmorch.Protocol.Agent.Replies.StatusReport status)
        {
        }

        public Task ModuleLoadedAsync(string device, HeldModule held) => Task.FromException(new IOException("disk full"));

        public void ModuleHeld(string device, HeldModule held)
        {
        }

        public void ModuleUnloaded(string device, string moduleId)
        {
        }
    }

    [Fact]
    public async Task No_payload_goes_to_a_device_ready_for_another_module()
    {
        await using var agent = new ScriptedAgent(line => line.StartsWith("LOAD", StringComparison.Ordinal) ? ["LOAD_READY module_id=other"] : []);
        await using var session = Session(agent);
        var error = await Assert.ThrowsAsync<GatewayException>(() => session.LoadAsync("m", "ABCDEFG\n"u8.ToArray(), CancellationToken.None));
        Assert.Equal(HostErrorCodes.ProtocolError, error.Code);
        await Task.Delay(200);
        Assert.DoesNotContain("ABCDEFG", agent.Received);
    }

    /// <summary>Finding 9 of issue 14: the reason a device's reply was unreadable reached only the gateway's log.</summary>
    [Theory]
    [InlineData("HELLO_OK proto=1 agent= board=b runtime=r modes=wasm max_module=1 extensions=PING", "key 'agent' has an empty value")]
    [InlineData("STATUS state=IDLE pad=", "key 'pad' has an empty value")]
    public async Task A_timeout_names_the_unreadable_line_the_device_sent_meanwhile(string reply, string reason)
    {
        await using var agent = new ScriptedAgent(line => line.StartsWith("HELLO", StringComparison.Ordinal) || line == "STATUS" ? [reply] : [])
        {
            AnswerHelloAsBaseline = !reply.StartsWith("HELLO", StringComparison.Ordinal),
        };
        await using var session = Session(agent, replyTimeoutMs: 500);
        var error = await Assert.ThrowsAsync<GatewayException>(() => session.StatusAsync(CancellationToken.None));
        Assert.Equal(HostErrorCodes.Timeout, error.Code);
        Assert.Contains("meanwhile it sent a line that is not protocol", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_over_long_reply_is_named_in_the_timeout()
    {
        await using var agent = new ScriptedAgent(line => line == "STATUS" ? ["STATUS state=IDLE modules=" + new string('m', 300)] : []);
        await using var session = Session(agent, replyTimeoutMs: 500);
        var error = await Assert.ThrowsAsync<GatewayException>(() => session.StatusAsync(CancellationToken.None));
        Assert.Contains("a line longer than 256 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_device_speaking_another_protocol_version_is_refused()
    {
        await using var agent = new ScriptedAgent(line => line.StartsWith("HELLO", StringComparison.Ordinal)
            ? ["HELLO_OK proto=2 agent=a/2 board=b runtime=r modes=wasm max_module=1 extensions=PING"]
            : ["STATUS state=IDLE modules=-"])
        {
            AnswerHelloAsBaseline = false,
        };
        await using var session = Session(agent);
        var error = await Assert.ThrowsAsync<GatewayException>(() => session.StatusAsync(CancellationToken.None));
        Assert.Equal(HostErrorCodes.ProtocolError, error.Code);
        Assert.Contains("speaks protocol 2; this gateway speaks protocol 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_queued_behind_a_command_the_device_never_answered_fail_with_it()
    {
        await using var agent = new ScriptedAgent(_ => []);
        await using var session = Session(agent, replyTimeoutMs: 800);
        var requests = Enumerable.Range(0, 4).Select(_ => session.StatusAsync(CancellationToken.None)).ToList();
        var errors = new List<GatewayException>();
        foreach (var request in requests)
        {
            errors.Add(await Assert.ThrowsAsync<GatewayException>(() => request));
        }
        Assert.All(errors, e => Assert.Equal(HostErrorCodes.Timeout, e.Code));
        // One waited its full deadline; the three queued behind it were not sent at all.
        Assert.Equal(3, errors.Count(e => e.Message.StartsWith("not sent: dev did not answer", StringComparison.Ordinal)));
        Assert.Equal(1, agent.Received.Count(l => l == "STATUS"));
    }

    [Fact]
    public async Task A_result_that_races_ahead_of_the_waiter_is_kept_for_it()
    {
        await using var agent = new ScriptedAgent(line => line.StartsWith("START", StringComparison.Ordinal)
            ? ["START_OK module_id=m func=f job=9", "RESULT module_id=m func=f job=9 status=OK value=1 elapsed_us=3"]
            : []);
        await using var session = Session(agent);
        var started = await session.StartAsync("m", "f", null, CancellationToken.None);
        await Task.Delay(50);
        var result = await started.WaitForResultAsync(9, TimeSpan.FromSeconds(2), CancellationToken.None);
        Assert.Equal("1", result.Value?.Text);
    }

    /// <summary>docs/protocol.md §3: the refusals a START may get as a RESULT without job (NO_MEMORY: a board whose pool cannot hold the instance).</summary>
    [Theory]
    [InlineData("NO_MODULE")]
    [InlineData("NO_FUNC")]
    [InlineData("BUSY")]
    [InlineData("BAD_ARGS")]
    [InlineData("NO_MEMORY")]
    public async Task Immediate_error_result_is_the_reply_to_start(string status)
    {
        await using var agent = new ScriptedAgent(line => line.StartsWith("START", StringComparison.Ordinal)
            ? [$"RESULT module_id=m func=f status={status} msg=\"refused\""]
            : []);
        await using var session = Session(agent);
        var started = await session.StartAsync("m", "f", "a=1", CancellationToken.None);
        Assert.Equal((null, status), (started.Job, started.Refusal?.Code));
        Assert.Contains("START module_id=m func=f args=\"a=1\"", agent.Received);
    }

    [Fact]
    public async Task Silent_device_times_out_naming_the_command_and_the_next_command_reconnects()
    {
        var answered = 0;
        await using var agent = new ScriptedAgent(line => line == "STATUS" && Interlocked.Increment(ref answered) == 1 ? [] : ["STATUS state=IDLE"]);
        await using var session = Session(agent, replyTimeoutMs: 1000);
        var timeout = await Assert.ThrowsAsync<GatewayException>(() => session.StatusAsync(CancellationToken.None));
        Assert.Equal(HostErrorCodes.Timeout, timeout.Code);
        Assert.Contains("STATUS", timeout.Message, StringComparison.Ordinal);

        var status = await session.StatusAsync(CancellationToken.None);
        Assert.Equal("IDLE", status.Answer.State);
        Assert.Equal(2, agent.Connections);
    }

    [Fact]
    public async Task Device_closing_the_link_fails_the_waiting_job_with_device_unreachable()
    {
        await using var agent = new ScriptedAgent(line => line.StartsWith("START", StringComparison.Ordinal)
            ? ["START_OK module_id=m func=f job=1"]
            : throw new IOException("board reset"));
        await using var session = Session(agent);
        var started = await session.StartAsync("m", "f", null, CancellationToken.None);
        var wait = started.WaitForResultAsync(1, TimeSpan.FromSeconds(5), CancellationToken.None);
        _ = session.StatusAsync(CancellationToken.None);
        var error = await Assert.ThrowsAsync<GatewayException>(() => wait);
        Assert.Equal(HostErrorCodes.DeviceUnreachable, error.Code);
    }

    [Theory]
    [InlineData("BOOT agent=wasmorch-zephyr/0.1 board=nucleo_f446re")]
    [InlineData("STATUS state=IDLE modules=- uptime_ms=12")]
    public async Task A_board_reset_under_a_live_link_fails_the_waiting_job_at_once(string afterReset)
    {
        var statusCount = 0;
        await using var agent = new ScriptedAgent(line => line switch
        {
            _ when line.StartsWith("START", StringComparison.Ordinal) => ["START_OK module_id=m func=f job=1"],
            "STATUS" when Interlocked.Increment(ref statusCount) == 1 => ["STATUS state=RUNNING modules=m uptime_ms=50000"],
            "STATUS" => [afterReset, "STATUS state=IDLE modules=- uptime_ms=15"],
            _ => [],
        });
        await using var session = Session(agent);
        var started = await session.StartAsync("m", "f", null, CancellationToken.None);
        var wait = started.WaitForResultAsync(1, TimeSpan.FromSeconds(30), CancellationToken.None);
        await session.StatusAsync(CancellationToken.None);
        await session.StatusAsync(CancellationToken.None);
        var error = await Assert.ThrowsAsync<GatewayException>(() => wait.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(HostErrorCodes.DeviceReset, error.Code);
        Assert.Contains("job is lost", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nothing_listening_is_device_unreachable_with_the_endpoint()
    {
        var port = new ScriptedAgent(_ => []);
        var dead = port.Port;
        await port.DisposeAsync();
        await using var session = new DeviceSession("dev", new TcpDeviceLink("127.0.0.1", dead, TimeSpan.FromSeconds(1)), TimeSpan.FromSeconds(1), NullLogger.Instance);
        var error = await Assert.ThrowsAsync<GatewayException>(() => session.StatusAsync(CancellationToken.None));
        Assert.Equal(HostErrorCodes.DeviceUnreachable, error.Code);
        Assert.Contains($"tcp://127.0.0.1:{dead}", error.Message, StringComparison.Ordinal);
    }
}

public sealed class NegotiationTests
{
    [Fact]
    public async Task Baseline_agent_gets_only_baseline_commands()
    {
        await using var agent = new ScriptedAgent(line => line switch
        {
            "STATUS" => ["STATUS state=IDLE module=- func=- job=- modules=- uptime_ms=5"],
            _ => ["ERR code=BAD_COMMAND"],
        });
        await using var session = new DeviceSession("old", new TcpDeviceLink("127.0.0.1", agent.Port, TimeSpan.FromSeconds(2)), TimeSpan.FromSeconds(2), NullLogger.Instance);
        var alive = await session.PingAsync(CancellationToken.None);
        Assert.Equal("IDLE", alive.Answer.Fields.Single(f => f.Key == "state").Value);
        Assert.True(session.Capabilities!.IsBaseline);
        var unload = await Assert.ThrowsAsync<GatewayException>(() => session.UnloadAsync("m", CancellationToken.None));
        Assert.Equal(HostErrorCodes.Unsupported, unload.Code);
        Assert.Equal(["HELLO proto=1", "STATUS"], agent.Received);
    }

    [Fact]
    public async Task Offered_extensions_are_used()
    {
        await using var agent = new ScriptedAgent(line => line switch
        {
            "HELLO proto=1" => ["HELLO_OK proto=1 agent=x/1 board=b runtime=r modes=wasm max_module=1000 extensions=PING,UNLOAD"],
            "PING" => ["PONG uptime_ms=9"],
            // An agent of the protocol before §6c: CAPS is an unknown command to it.
            "CAPS" => ["ERR code=BAD_COMMAND msg=\"unknown command 'CAPS'\""],
            _ => ["UNLOAD_OK module_id=m"],
        })
        {
            AnswerHelloAsBaseline = false,
        };
        await using var session = new DeviceSession("new", new TcpDeviceLink("127.0.0.1", agent.Port, TimeSpan.FromSeconds(2)), TimeSpan.FromSeconds(2), NullLogger.Instance);
        Assert.True((await session.PingAsync(CancellationToken.None)).Ok);
        Assert.Null(await session.UnloadAsync("m", CancellationToken.None));
        Assert.Equal(1000, session.Capabilities!.MaxModule);
        Assert.Equal(["HELLO proto=1", "CAPS", "PING", "UNLOAD module_id=m"], agent.Received);
        Assert.Empty(session.Capabilities.Caps);
    }
}
