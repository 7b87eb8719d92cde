using Spmc.Abi.Calls;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Ffa;
using Spmc.Core.Calls;

namespace Spmc.Core.Spm.Handlers;

/// <summary>
/// An FFA_NS_RES_INFO_GET retrieval in progress (at most one per system, DEN0077 v1.3 R0274): the whole resource
/// information descriptor as it was when the retrieval started, how much of it was written to the caller's RX
/// buffer, and the target it was started for (0 = all S-endpoints). Plain data, part of <see cref="SpmcState"/>.
/// </summary>
public sealed class NsResInfoRetrieval
{
    public required byte[] Descriptor { get; init; }
    public required ushort Target { get; init; }
    public int Written { get; set; }
    public int Remaining => Descriptor.Length - Written;
}

/// <summary>
/// FFA_NS_RES_INFO_GET (FF-A 1.3 §13.13, BETA in ALP4): which regions of the non-secure physical address space
/// secure partitions can reach, for the hypervisor or host at the non-secure physical instance (ID 0 here; other
/// callers get NOT_SUPPORTED from the Callers gate). In this simulator the NS PAS regions an SP can reach are:
/// <list type="bullet">
/// <item>directly: the constituents of memory a VM shared, lent or donated, for each SP borrower that has
/// retrieved it (the Dynamic NS regions of D0261; an SP maps nothing before it retrieves), with the permissions the
/// retrieve granted mapped by table 13.68 (our SPs are S-EL1 partitions);</item>
/// <item>indirectly (component = the SPMC ID, R0251): every normal-world RX/TX buffer pair mapped with the SPMC, which
/// the SPMC writes (RX, privileged RW) and reads (TX, privileged R) for SPs' indirect messages, as Hafnium reports
/// them. With a target they are listed only when the target supports indirect messaging (X0242).</item>
/// </list>
/// Partitions' manifests declare no NS memory (no Static NS regions). The descriptor is built when a retrieval
/// starts and handed out in chunks of the caller's RX buffer size (I0272 lets later changes show or not).
/// </summary>
internal sealed class ResourceHandlers(SpmcContext spmc)
{
    public void Register(HandlerTable table) =>
        table.Register<NsResInfoGet>(FfaFunction.NsResInfoGet, Callers.Hypervisor, NsResInfoGet, smc32: false, smc64: true);

    private static string Id(ushort id) => EndpointId.Format(id);

    /// <summary>
    /// Parameters first (resource type, target; reserved bits are SBZ and ignored, as Hafnium), then what to write:
    /// a continue with no retrieval in progress for the same target, or a start that finds no accessible region,
    /// succeeds with x2 = 0 (table 13.70, R0254) and writes nothing; otherwise the caller's RX buffer must be mapped
    /// and owned by the SPMC (RETRY, the retrieval left as it was), and the next chunk is written. A start ends any
    /// retrieval in progress (I0277); the last chunk ends the retrieval.
    /// </summary>
    private FfaAnswer NsResInfoGet(Call c, NsResInfoGet call)
    {
        if (call.ResourceType != Abi.Calls.NsResInfoGet.NsPasRegions)
            return c.Reject(NsResInfoGetRules.ResourceType, $"x2 bits[3:2] = 0b{Convert.ToString(call.ResourceType, 2).PadLeft(2, '0')} is a reserved resource type");
        ushort target = 0;
        if (call.TargetValid)
        {
            if (spmc.FindEndpoint(call.Target) is not { IsSecure: true })
                return c.Reject(NsResInfoGetRules.InvalidTarget, $"x1[15:0] = {Id(call.Target)} is not a secure partition of this system");
            target = call.Target;
        }

        var state = spmc.State;
        NsResInfoRetrieval? retrieval;
        if (call.Continue)
        {
            retrieval = state.NsResInfo is { } ongoing && ongoing.Target == target ? ongoing : null;
            if (retrieval is null)
                return Sizes(0, 0, "no retrieval of the resource information descriptor is in progress for these parameters (table 13.70)");
        }
        else
        {
            var regions = Regions(target);
            if (regions.Count == 0)
            {
                state.NsResInfo = null;
                return Sizes(0, 0, target == 0 ? "no region of the NS PAS is accessible from any partition (R0254)"
                    : $"no region of the NS PAS is accessible from {Id(target)} (R0254)");
            }
            retrieval = new NsResInfoRetrieval { Descriptor = new ResourceInfoDescriptor(regions).Encode(), Target = target };
        }

        var mailbox = c.Caller.Mailbox;
        if (mailbox is null)
            return c.Reject(NsResInfoGetRules.RxNotMapped, $"{Id(c.Caller.Id)} has no RX buffer mapped with the SPMC (FFA_RXTX_MAP first)");
        if (mailbox.State != RxState.Empty)
            return c.Reject(NsResInfoGetRules.RxNotOwned, $"{SpmcContext.RxBusyReason(c.Caller)}; the retrieval is kept");

        var chunk = Math.Min(retrieval.Remaining, mailbox.Size);
        spmc.FillRx(c.Caller, retrieval.Descriptor.AsSpan(retrieval.Written, chunk));
        retrieval.Written += chunk;
        state.NsResInfo = retrieval.Remaining == 0 ? null : retrieval;
        return Sizes((uint)chunk, (uint)retrieval.Remaining, retrieval.Remaining == 0 ? null
            : $"{retrieval.Remaining} bytes remain: FFA_RX_RELEASE, then call again with x2 bit 4 (continue) set");
    }

    /// <summary>FFA_SUCCESS64 with x2 = written[63:32] | remaining[31:0] (table 13.60), x3..x17 zero.</summary>
    private static FfaAnswer Sizes(uint written, uint remaining, string? note) =>
        new(Regs.Frame(FfaFunctions.Id64(FfaFunction.Success), 0, Abi.Calls.NsResInfoGet.Sizes(written, remaining)), Note: note);

    /// <summary>The regions of the NS PAS accessible from <paramref name="target"/> (0: from every partition), as the class summary says.</summary>
    private List<AddressMapDescriptor> Regions(ushort target)
    {
        var state = spmc.State;
        var regions = new List<AddressMapDescriptor>();
        foreach (var share in state.Shares.Values)
        {
            if (!share.SendingComplete || EndpointId.IsSecure(share.Sender)) continue;
            foreach (var borrower in share.Receivers)
            {
                if (!EndpointId.IsSecure(borrower.Id) || !borrower.HoldsMemory || (target != 0 && borrower.Id != target)) continue;
                var permissions = Permissions(borrower.GrantedData, borrower.GrantedInstruction);
                foreach (var part in share.Constituents)
                    regions.Add(new AddressMapDescriptor(part.Address, part.PageCount, permissions, borrower.Id, RegionAccessType.Direct));
            }
        }
        var indirect = target == 0 || spmc.FindEndpoint(target)?.Partition?.Properties.HasFlag(PartitionProperties.IndirectMessaging) == true;
        if (!indirect) return regions;
        foreach (var vm in state.Endpoints.Values.Where(e => !e.IsSecure && e.Mailbox is not null).OrderBy(e => e.Id))
        {
            var mailbox = vm.Mailbox!;
            regions.Add(new AddressMapDescriptor(mailbox.Rx, mailbox.Pages,
                AddressMapDescriptor.Rap.PrivilegedRead | AddressMapDescriptor.Rap.PrivilegedWrite, spmc.Config.SpmcId, RegionAccessType.Indirect));
            regions.Add(new AddressMapDescriptor(mailbox.Tx, mailbox.Pages, AddressMapDescriptor.Rap.PrivilegedRead, spmc.Config.SpmcId,
                RegionAccessType.Indirect));
        }
        return regions;
    }

    /// <summary>Permissions a retrieve granted an S-EL1 partition, as table 13.68 maps them (RO 0x11, RW 0x33, execute adds 0x44).</summary>
    private static byte Permissions(DataAccess data, InstructionAccess instruction)
    {
        var rap = data switch
        {
            DataAccess.ReadWrite => AddressMapDescriptor.Rap.Read | AddressMapDescriptor.Rap.Write,
            DataAccess.ReadOnly => AddressMapDescriptor.Rap.Read,
            _ => 0,
        };
        if (instruction == InstructionAccess.Executable) rap |= AddressMapDescriptor.Rap.Execute;
        return (byte)rap;
    }
}
