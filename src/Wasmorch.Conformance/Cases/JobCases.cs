using Wasmorch.Protocol.Agent;
using System.Globalization;
using static Wasmorch.Conformance.CaseContext;

namespace Wasmorch.Conformance.Cases;

/// <summary>§3 Jobs: START/RESULT, argument conversion, immediate errors, STATUS/STOP while running, traps.</summary>
public static class JobCases
{
    private const string Math = "cf_math";
    private const string Blink = "cf_blink";

    private static async Task<AgentLine> ImmediateAsync(CaseContext c, string command, string status, string rule)
    {
        var reply = await c.RequestAsync(command);
        ExpectVerb(reply, AgentVerbs.Result, rule, status, AgentKeys.Status);
        Expect(!reply.Has(AgentKeys.Job), rule, "an immediate refusal is a RESULT without job=", reply);
        return reply;
    }

    public static IEnumerable<ConformanceCase> All =>
    [
        new("start_add", "§3 START", async c =>
        {
            await c.LoadOkAsync(Math, SuiteModules.Math);
            var result = await c.RunAsync(Math, "add", "a=10,b=15");
            ExpectField(result, AgentKeys.Status, "OK", "§3 START: a function that returns ends status=OK");
            ExpectField(result, AgentKeys.Value, "25", "§3 arguments: add(10,15)");
            ExpectField(result, AgentKeys.ModuleId, Math, "§3 RESULT names its module");
        }),
        new("args_by_signature", "§3 arguments and results", async c =>
        {
            await c.LoadOkAsync(Math, SuiteModules.Math);
            ExpectField(await c.RunAsync(Math, "add_i64", "9000000000,1"), AgentKeys.Value, "9000000001", "§3 arguments: i64 parameters take 64-bit values");
            var f32 = await c.RunAsync(Math, "mul_f32", "2.5,4");
            Expect(double.TryParse(f32[AgentKeys.Value], NumberStyles.Float, CultureInfo.InvariantCulture, out var product) && product == 10, "§3 arguments: f32", "mul_f32(2.5,4) is 10", f32);
            var f64 = await c.RunAsync(Math, "add_f64", "0.25,-1.5");
            Expect(double.TryParse(f64[AgentKeys.Value], NumberStyles.Float, CultureInfo.InvariantCulture, out var sum) && sum == -1.25, "§3 arguments: f64", "add_f64(0.25,-1.5) is -1.25", f64);
            ExpectField(await c.RunAsync(Math, "add", "-7,0x10"), AgentKeys.Value, "9", "§3 arguments: signed decimal and 0x hex");
            var none = await c.RunAsync(Math, "nothing");
            ExpectField(none, AgentKeys.Status, "OK", "§3 START: a function without result ends OK");
            Expect(!none.Has(AgentKeys.Value), "§3 results", "a function without result has no value=", none);
        }),
        new("bad_args", "§3 arguments: BAD_ARGS", async c =>
        {
            await c.LoadOkAsync(Math, SuiteModules.Math);
            await ImmediateAsync(c, $"START module_id={Math} func=add args=\"1\"", "BAD_ARGS", "§3 arguments: too few is RESULT status=BAD_ARGS");
            await ImmediateAsync(c, $"START module_id={Math} func=add args=\"1,2,3\"", "BAD_ARGS", "§3 arguments: too many is RESULT status=BAD_ARGS");
            await ImmediateAsync(c, $"START module_id={Math} func=add args=\"1,abc\"", "BAD_ARGS", "§3 arguments: a non-number is RESULT status=BAD_ARGS");
            await ImmediateAsync(c, $"START module_id={Math} func=add args=\"1,99999999999\"", "BAD_ARGS", "§3 arguments: an i32 out of range is RESULT status=BAD_ARGS");
        }),
        new("no_module_no_func", "§3 START: NO_MODULE, NO_FUNC", async c =>
        {
            await c.LoadOkAsync(Math, SuiteModules.Math);
            await ImmediateAsync(c, "START module_id=cf_absent func=add", "NO_MODULE", "§3 START of a module that is not loaded is RESULT status=NO_MODULE");
            await ImmediateAsync(c, $"START module_id={Math} func=sqrt", "NO_FUNC", "§3 START of a function not exported is RESULT status=NO_FUNC");
        }),
        new("status_and_stop_while_running", "§3 jobs: COMM answers while RUNNER runs", async c =>
        {
            await c.LoadOkAsync(Blink, SuiteModules.Blink);
            var job = await c.StartOkAsync(Blink, "blink", "20");
            var status = await c.RequestAsync(AgentVerbs.Status);
            ExpectVerb(status, AgentVerbs.Status, "§3 jobs: STATUS is answered while a job runs");
            ExpectField(status, AgentKeys.State, "RUNNING", "§3 STATUS while a job runs");
            ExpectField(status, AgentKeys.Module, Blink, "§3 STATUS names the running module");
            ExpectField(status, AgentKeys.Job, job, "§3 STATUS names the running job");

            var busy = await ImmediateAsync(c, $"START module_id={Blink} func=blink args=\"5\"", "BUSY", "§3 START while a job runs is RESULT status=BUSY");
            _ = busy;
            var reload = await c.RequestAsync($"LOAD module_id={Blink} size={SuiteModules.Blink.Length} crc32=00000000");
            ExpectVerb(reload, AgentVerbs.Err, "§3 LOAD of the running module is ERR code=BUSY", "BUSY");

            var stop = await c.RequestAsync($"STOP module_id={Blink}");
            ExpectVerb(stop, AgentVerbs.StopOk, "§3 STOP of a running job");
            ExpectField(stop, AgentKeys.Status, "PENDING", "§3 STOP of a running job is STOP_OK status=PENDING");
            var result = await c.ResultAsync(job, StopDeadline);
            ExpectField(result, AgentKeys.Status, "STOPPED", "§3 jobs: a stopped job ends RESULT status=STOPPED");
            var idle = await c.RequestAsync($"STOP module_id={Blink}");
            ExpectField(idle, AgentKeys.Status, "IDLE", "§3 STOP of a loaded, idle module is STOP_OK status=IDLE");
        }),
        new("stop_unknown_module", "§3 STOP: NO_MODULE", async c =>
            ExpectVerb(await c.RequestAsync("STOP module_id=cf_absent"), AgentVerbs.Err, "§3 STOP of a module that is not loaded is ERR code=NO_MODULE", "NO_MODULE")),
        new("stop_backstop", "§3 jobs: STOP backstop", async c =>
        {
            await c.LoadOkAsync("cf_spin", SuiteModules.Spin);
            var job = await c.StartOkAsync("cf_spin", "spin");
            ExpectField(await c.RequestAsync("STOP module_id=cf_spin"), AgentKeys.Status, "PENDING", "§3 STOP of a running job");
            var result = await c.ResultAsync(job, StopDeadline);
            ExpectField(result, AgentKeys.Status, "STOPPED", "§3 jobs: a job ignoring STOP is terminated after the grace period and ends STOPPED");
            ExpectVerb(await c.RequestAsync(AgentVerbs.Status), AgentVerbs.Status, "§3 jobs: the agent never hangs");
        }),
        new("stop_backstop_aot", "§3 jobs: STOP backstop, AOT code", async c =>
        {
            // The same spin loop precompiled for the agent: AOT code that loops without a call must stop too (issue 32).
            var aot = await AotModules.PrecompileAsync(SuiteModules.SpinNoMemory, c.Capabilities, c.Ct);
            await c.LoadOkAsync("cf_spin_aot", aot);
            var job = await c.StartOkAsync("cf_spin_aot", "spin");
            ExpectField(await c.RequestAsync("STOP module_id=cf_spin_aot"), AgentKeys.Status, "PENDING", "§3 STOP of a running job");
            var result = await c.ResultAsync(job, StopDeadline);
            ExpectField(result, AgentKeys.Status, "STOPPED", "§3 jobs: an AOT job ignoring STOP is terminated after the grace period and ends STOPPED");
            ExpectVerb(await c.RequestAsync(AgentVerbs.Status), AgentVerbs.Status, "§3 jobs: the agent never hangs");
        }),
        .. TrapCases(),
    ];

    private static IEnumerable<ConformanceCase> TrapCases()
    {
        foreach (var (func, args, message) in new[]
        {
            ("unreachable", (string?)null, "unreachable executed"),
            ("div_zero", "7", "integer divide by zero"),
            ("out_of_bounds", null, "out of bounds memory access"),
            ("recurse", "0", "call stack exhausted"),
        })
        {
            yield return new($"trap_{func}", "§3 jobs: traps", async c =>
            {
                await c.LoadOkAsync("cf_traps", SuiteModules.Traps);
                var result = await c.RunAsync("cf_traps", func, args);
                ExpectField(result, AgentKeys.Status, "TRAP", $"§3 jobs: {func} ends status=TRAP");
                Expect((result[AgentKeys.Msg] ?? "").Contains(message, StringComparison.Ordinal), "§3 jobs: traps", $"msg should say '{message}'", result);
                ExpectField(await c.RequestAsync(AgentVerbs.Status), AgentKeys.State, "IDLE", "§3 jobs: after a trap the runner is idle");
            });
        }
    }
}
