using Spmc.Abi.Smccc;
using Spmc.Core.Calls;
using Spmc.Core.Proxy;
using Spmc.Core.Spm.Runtime;
using Spmc.Core.Tests.Support;
using static Spmc.Core.Tests.Messaging.Dm;

namespace Spmc.Core.Tests.Systems;

/// <summary>
/// The register contract of SMC32 answers (manifest <c>spmc.registers</c>, FF-A 1.3 §11.1.2): <c>smccc</c> preserves
/// the caller's x8..x17, <c>poison</c> overwrites them with a pattern; an SMC32 call completed by an SMC64 function
/// carries that function's registers and a note under either contract.
/// </summary>
public sealed class RegisterContractTests
{
    private const ushort Host = 0, Remote = 0x8004;
    private const ulong IdGet32 = 0x8400_0069, Success32 = 0x8400_0061;

    private static string Json(string registers, string proxy = "passthrough", uint timeoutMs = 60_000) => $$"""
        {
          "spmc": { "registers": "{{registers}}", "remoteTimeoutMs": {{timeoutMs}} },
          "proxy": "{{proxy}}",
          "vms": [ { "id": 0, "name": "host", "vcpus": 2, "memory": [ { "base": "0x80000000", "size": "0x100000" } ] } ],
          "partitions": [
            { "id": "0x8004", "name": "remote", "behaviour": "remote", "uuids": [ "7a3f2b1c-5d4e-4f60-8a9b-0c1d2e3f4a44" ],
              "properties": { "directRequestReceive": true, "directRequest2Receive": true },
              "memory": [ { "base": "0x60400000", "size": "0x100000" } ] }
          ]
        }
        """;

    /// <summary>FFA_ID_GET_32 with the caller's x8..x17 set to 0xCA11E8_0000_00nn.</summary>
    private static SmcFrame IdGetWithHighRegisters()
    {
        var f = SmcFrame.From(IdGet32);
        for (var i = 8; i < 18; i++) f[i] = 0xCA11E8_0000_0000ul | (uint)i;
        return f;
    }

    [Fact]
    public void Smccc_Smc32Answer_PreservesTheCallersX8ToX17()
    {
        var o = TestSystem.FromJson(Json("smccc")).Call(Host, IdGetWithHighRegisters());
        Expect.Success(o, w2: 0);
        for (var i = 8; i < 18; i++) Assert.Equal(0xCA11E8_0000_0000ul | (uint)i, o.Frame[i]);
        Assert.Null(o.Decoded.Notes);
    }

    [Fact]
    public void Poison_Smc32Answer_FillsX8ToX17WithThePattern_AndKeepsW0ToW7()
    {
        var o = TestSystem.FromJson(Json("poison")).Call(Host, IdGetWithHighRegisters());
        Assert.Equal(Success32, o.Frame[0]);
        for (var i = 1; i < 8; i++) Assert.Equal(0ul, o.Frame[i]);
        for (var i = 8; i < 18; i++) Assert.Equal(SpmcPort.PoisonPattern | (uint)i, o.Frame[i]);
        Assert.Equal(0x5EC0_DEAD_0000_0008ul, o.Frame[8]);
    }

    [Fact]
    public void Poison_AlsoCoversRefusalsAndSmcccVersion()
    {
        var sys = TestSystem.FromJson(Json("poison"));
        var refused = sys.Call(Host, SmcFrame.From(0x8400_0088)); // FFA_MEM_PERM_GET_32: not implemented
        Assert.NotNull(refused.Decoded.Error);
        Assert.Equal(SpmcPort.PoisonPattern | 17, refused.Frame[17]);
        var smccc = sys.Call(Host, SmcFrame.From(SmcccFunctionId.SmcccVersion));
        Assert.Equal(SmcccFunctionId.Version1_2, (uint)smccc.Frame[0]);
        Assert.Equal(SpmcPort.PoisonPattern | 9, smccc.Frame[9]);
    }

    [Fact]
    public void Poison_Smc64Answer_IsNotPoisoned()
    {
        // FFA_PARTITION_INFO_GET_REGS (SMC64): x3..x17 carry entries, never the pattern.
        var o = TestSystem.FromJson(Json("poison")).Call(Host, SmcFrame.From(0xC400_008B));
        Assert.Null(o.Decoded.Error);
        for (var i = 8; i < 18; i++) Assert.NotEqual(SpmcPort.PoisonPattern | (uint)i, o.Frame[i]);
    }

    [Fact]
    public void Poison_ThroughPkvm74_ReachesTheHost_AndTheHopShowsTheSpmcsAnswer()
    {
        // pKVM from 6.18 copies x0..x17 of the SPMC's answer to the host (ffa_set_retval), so the host sees the pattern.
        var sys = TestSystem.FromJson(Json("poison", proxy: "pkvm-7.4"));
        Assert.Equal(0x1_0002ul, sys.Call(Host, SmcFrame.From(0x8400_0063, 0x1_0002)).Frame[0]); // pKVM's own version
        var o = sys.Call(Host, IdGetWithHighRegisters());
        var hop = Assert.Single(o.Decoded.Hops!);
        Assert.Equal(SpmcPort.PoisonPattern | 8, hop.Answer[8]);
        Assert.Equal(SpmcPort.PoisonPattern | 8, o.Frame[8]);
    }

    [Fact]
    public async Task Scenario1_Smc32MsgWait_CompletedByReq2_64_IsNotedWithTheOverwrittenRegisters()
    {
        var sys = TestSystem.FromJson(Json("smccc"));
        using var client = sys.System.Attach(Remote);
        var wait = SmcFrame.From(MsgWait);
        for (var i = 8; i < 18; i++) wait[i] = 0x1111_0000_0000_0000ul | (uint)i;
        var parked = client.CallAsync(0, wait);
        Assert.False(parked.IsCompleted);

        var host = sys.System.CallAsync(Host, Req2(Host, Remote, Uuid.Nil, 1, 2, 3, 4, 0x88));
        var resumed = await parked.WaitAsync(Limit);
        Assert.Equal(Req2Id, resumed.Frame[0]);
        Assert.Equal(0x88ul, resumed.Frame[8]);   // REQ2's payload, not the partition's x8
        Assert.Equal(0ul, resumed.Frame[9]);
        var note = Assert.Single(resumed.Decoded.Notes!, n => n.Contains("§11.1.2 scenario 1", StringComparison.Ordinal));
        Assert.Contains("SMC32 FFA_MSG_WAIT_32 was completed by SMC64 FFA_MSG_SEND_DIRECT_REQ2", note, StringComparison.Ordinal);
        Assert.Contains("x8, x9, x10", note, StringComparison.Ordinal);

        _ = client.CallAsync(0, Resp2(Remote, Host, 7));
        Assert.Equal(7ul, (await host.WaitAsync(Limit)).Frame[4]);
    }

    [Fact]
    public async Task Scenario1_Smc32MsgWait_CompletedByAnSmc32Request_KeepsTheCallersX8ToX17()
    {
        var sys = TestSystem.FromJson(Json("smccc"));
        using var client = sys.System.Attach(Remote);
        var wait = SmcFrame.From(MsgWait);
        wait[8] = 0x2222;
        var parked = client.CallAsync(0, wait);
        _ = sys.System.CallAsync(Host, Req(Host, Remote, payload: 5));
        var resumed = await parked.WaitAsync(Limit);
        Assert.Equal(Req32, resumed.Frame[0]);
        Assert.Equal(0x2222ul, resumed.Frame[8]);
        Assert.Null(resumed.Decoded.Notes);
    }

    [Fact]
    public async Task Scenario2_Smc32Run_CompletedByAHeldResp2_64_IsNoted()
    {
        // A 1.2 host (S0188 is a 1.3 rule) resumes the preempted partition with FFA_RUN_32; the partition had answered
        // with the SMC64 DIRECT_RESP2 meanwhile, which completes the RUN.
        var sys = TestSystem.FromJson(Json("smccc", timeoutMs: 50));
        sys.Negotiate(Host, 0x1_0002);
        using var client = sys.System.Attach(Remote);
        var parked = client.CallAsync(0, SmcFrame.From(MsgWait));
        var host = sys.System.CallAsync(Host, Req2(Host, Remote));
        await parked.WaitAsync(Limit);
        Answer(await host.WaitAsync(Limit), Interrupt);
        Assert.Equal(ContextState.Preempted, sys.State.Partitions.Single(p => p.Config.Id == Remote).Contexts[0].State);
        _ = client.CallAsync(0, Resp2(Remote, Host, 9));

        var run = RunFrame(Remote);
        run[8] = 0x3333;
        var o = await sys.System.CallAsync(Host, run).WaitAsync(Limit);
        Assert.Equal(Resp2Id, o.Frame[0]);
        Assert.Equal(9ul, o.Frame[4]);
        Assert.Equal(0ul, o.Frame[8]);
        var note = Assert.Single(o.Decoded.Notes!, n => n.Contains("§11.1.2 scenario 2", StringComparison.Ordinal));
        Assert.Contains("SMC32 FFA_RUN_32 was completed by SMC64 FFA_MSG_SEND_DIRECT_RESP2", note, StringComparison.Ordinal);
        Assert.Contains("x8 no longer hold", note, StringComparison.Ordinal);
    }
}
