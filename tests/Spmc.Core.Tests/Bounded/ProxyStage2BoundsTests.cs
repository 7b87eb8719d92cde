using Spmc.Abi.Smccc;
using Spmc.Core.Systems;
using Spmc.Core.Tests.Sharing;
using Spmc.Core.Tests.Support;

namespace Spmc.Core.Tests.Bounded;

/// <summary>The state view lists the first <see cref="StateLimits.ListedRanges"/> of the pKVM proxy's stage-2 runs, and counts them all.</summary>
public sealed class ProxyStage2BoundsTests
{
    private const ushort Host = 0, Sp1 = 0x8001;

    [Fact]
    public void State_ListsTheFirstStage2Runs_AndCountsThemAll()
    {
        var s = new SharingSystem(TestSystem.FromJson(Support.Manifests.DefaultJson));
        Assert.Equal(0x1_0002ul, s.Test.Call(Host, SmcFrame.From(0x8400_0063, 0x1_0002)).Frame[0]);
        s.MapDefault(Host);
        const int count = 1100;
        var d = SharingDescriptors.Send(Host, [(Sp1, SendOp.Share.ValidPermission())],
            Enumerable.Range(0, count).Select(i => (Pages.HostPage(2 + 2 * i), 1u)), SendOp.Share.ValidAttributes(), tag: 0);
        Expect.Success(s.SendFragments(Host, MemIds.Share32, d)[^1]);

        var state = s.State;
        Assert.Equal(StateLimits.ListedRanges, state.Proxy!.Stage2.Count);
        Assert.True(state.Stage2RangeCount >= count, $"{state.Stage2RangeCount} stage-2 runs");
    }
}
