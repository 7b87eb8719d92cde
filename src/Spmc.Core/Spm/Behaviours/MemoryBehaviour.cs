using Spmc.Abi.Calls;
using Spmc.Abi.Descriptors;
using Spmc.Abi.Descriptors.Memory;
using Spmc.Abi.Ffa;
using Spmc.Abi.Smccc;
using Spmc.Core.Calls;

namespace Spmc.Core.Spm.Behaviours;

/// <summary>
/// `memory`: the test partner for the whole memory-sharing path. On a direct request it retrieves the memory,
/// checks and writes a pattern, relinquishes (not after a DONATE: the pages are its own then) and answers.
/// Payload (w3.. for REQ, x4.. for REQ2):
///   [0] handle bits[31:0], [1] handle bits[63:32],
///   [2] transaction type: 1 SHARE (default when 0), 2 LEND, 3 DONATE,
///   [3] check: bit 8 set = every byte must equal bits[7:0],
///   [4] write: bit 8 set = fill every byte with bits[7:0] (needs read-write access).
/// Check and fill touch at most <see cref="MaxTouchedPages"/> pages per request (see <see cref="PagesToTouch"/>).
/// Response: [0] status (0 ok, 1 content mismatch, 2 malformed retrieve response, or the FF-A error code of the
/// step that failed), [1] function ID of the failing step (0 when none), [2] pages retrieved, [3] address of the
/// first mismatching byte bits[31:0], [4] its bits[63:32].
/// It uses its RX/TX pair when one is mapped, else maps the last two pages of its first memory region.
/// </summary>
public sealed class MemoryBehaviour : IPartitionBehaviour, IBehaviourState
{
    public Snapshots.BehaviourSnapshot Export() => new(_vms.Export());

    public void Load(Snapshots.BehaviourSnapshot snapshot) => _vms.Load(snapshot.Vms);

    public const uint StatusOk = 0, StatusMismatch = 1, StatusMalformed = 2;
    // The steps a failure is reported by (response [1]: the function ID of the call that failed).
    private static readonly uint RetrieveStep = FfaFunctions.Id32(FfaFunction.MemRetrieveReq), RelinquishStep = FfaFunctions.Id32(FfaFunction.MemRelinquish),
        FragRxStep = FfaFunctions.Id32(FfaFunction.MemFragRx), RxReleaseStep = FfaFunctions.Id32(FfaFunction.RxRelease), RxTxMapStep = FfaFunctions.Id64(FfaFunction.RxTxMap);

    public string Name => Behaviours.Memory;

    private readonly VmAvailabilityStates _vms = new();

    public void Run(IPartitionCpu sp, SmcFrame delivered)
    {
        if (_vms.TryAnswer(sp, delivered)) return;
        if (Message.Request(delivered) is not { } request) { Message.Wait(sp); return; }
        var r = Handle(sp, request);
        Message.Respond(sp, request, r.Status, r.Step, r.Pages, (uint)r.Mismatch, r.Mismatch >> 32);
    }

    /// <summary>
    /// The most pages one request checks or fills (4 MiB). A constituent may hold 2^32 - 1 pages (16 TiB), and filling
    /// every retrieved page would make one small request allocate that much and hold the system's lock while it does.
    /// Big enough that a driver's test share is checked whole (the guest test module's fragmented share is 320 pages).
    /// </summary>
    public const int MaxTouchedPages = 1024;

    /// <summary>
    /// The pages a request checks or fills: every page when the region has at most <see cref="MaxTouchedPages"/>;
    /// otherwise the first and the last page of each constituent, in descriptor order, until
    /// <see cref="MaxTouchedPages"/> pages (the boundaries are where a wrong address or length shows).
    /// </summary>
    public static IEnumerable<ulong> PagesToTouch(IReadOnlyList<MemoryRegionConstituent> constituents, ulong totalPages)
    {
        if (totalPages <= MaxTouchedPages)
        {
            foreach (var c in constituents)
                for (ulong page = 0; page < c.PageCount; page++) yield return c.Address + page * FfaPage.Size;
            yield break;
        }
        var left = MaxTouchedPages;
        foreach (var c in constituents)
        {
            if (c.PageCount == 0) continue;
            yield return c.Address;
            if (--left == 0) yield break;
            if (c.PageCount == 1) continue;
            yield return c.Address + (c.PageCount - 1UL) * FfaPage.Size;
            if (--left == 0) yield break;
        }
    }

    private readonly record struct Result(ulong Status, ulong Step = 0, ulong Pages = 0, ulong Mismatch = 0);

    private static Result Failed(FfaAnswer a, uint step) => new(a.Error?.Encoded() ?? StatusMalformed, step);

    private static Result Handle(IPartitionCpu sp, IDirectRequest request)
    {
        var payload = request.Payload;
        var handle = MemoryHandle.FromRegisters(payload[0], payload[1]);
        var type = (MemoryTransactionType)(payload[2] & 3);
        if (type == MemoryTransactionType.NotSpecified) type = MemoryTransactionType.Share;
        var check = payload[3];
        var write = payload[4];
        var memorySender = request.Sender;

        if (sp.Mailbox is null)
        {
            var tx = sp.MemoryBase + sp.MemorySize - 2 * FfaPage.Size;
            var map = sp.Call(new RxTxMap(tx, tx + FfaPage.Size, 1));
            if (map.IsError) return Failed(map, RxTxMapStep);
        }
        var mailbox = sp.Mailbox!;
        var layout = MemoryDescriptorLayouts.For(sp.Version);

        // SHARE leaves instruction access unspecified; a single borrower of LEND/DONATE asks for NX (spmc-behaviour.md §8.4).
        var instruction = type == MemoryTransactionType.Share ? InstructionAccess.NotSpecified : InstructionAccess.NotExecutable;
        var retrieve = new MemoryTransactionDescriptor(memorySender, default, MemoryTransactionFlags.OfType(type), handle, 0,
            [new EndpointMemoryAccess(MemoryAccessPermissions.Of(sp.Id, DataAccess.ReadWrite, instruction), 0)]);
        var bytes = retrieve.ToBytes(layout);
        if (!sp.Write(mailbox.Tx, bytes)) return new Result(StatusMalformed, RetrieveStep);
        var answer = sp.Call(new MemRetrieveReq((uint)bytes.Length, (uint)bytes.Length));
        if (answer.IsError) return Failed(answer, RetrieveStep);

        // Collect the response, fragment by fragment (FFA_MEM_FRAG_RX after releasing each one).
        var resp = MemRetrieveResp.Decode(answer.Frame).Value!;
        var total = (int)resp.TotalLength;
        var response = new byte[total];
        var received = 0;
        var fragment = (int)resp.FragmentLength;
        while (true)
        {
            if (fragment <= 0 || received + fragment > total || sp.Read(mailbox.Rx, fragment) is not { } part)
                return new Result(StatusMalformed, RetrieveStep);
            part.CopyTo(response, received);
            received += fragment;
            var release = sp.Call(new RxRelease(0));
            if (release.IsError) return Failed(release, RxReleaseStep);
            if (received == total) break;
            var next = sp.Call(new MemFragRx(handle, (uint)received, 0));
            if (next.IsError) return Failed(next, FragRxStep);
            // The answer is FFA_MEM_FRAG_TX: w3 = the fragment's length (0, malformed, when it does not decode).
            fragment = MemFragTx.Decode(next.Frame) is { Ok: true } frag ? (int)frag.Value!.FragmentLength : 0;
        }

        var parsed = MemoryTransactionDescriptor.Read(response, layout == MemoryDescriptorLayout.V1_0);
        if (!parsed.Ok || parsed.Value!.Composite is not { } composite) return new Result(StatusMalformed, RetrieveStep);

        ulong pages = 0, mismatch = 0;
        foreach (var constituent in composite.Constituents) pages += constituent.PageCount;
        var status = StatusOk;
        // One page of the pattern to write (when asked to write), reused for every page.
        var fill = (write & 0x100) != 0 ? Enumerable.Repeat((byte)write, FfaPage.Size).ToArray() : null;
        if ((check & 0x100) != 0 || fill is not null)
        {
            foreach (var address in PagesToTouch(composite.Constituents, pages))
            {
                if ((check & 0x100) != 0 && status == StatusOk)
                {
                    if (sp.Read(address, FfaPage.Size) is not { } data) return new Result(StatusMalformed, RetrieveStep, pages);
                    var at = data.AsSpan().IndexOfAnyExcept((byte)check);
                    if (at >= 0) (status, mismatch) = (StatusMismatch, address + (ulong)at);
                }
                if (fill is not null && !sp.Write(address, fill)) return new Result(StatusMalformed, RetrieveStep, pages);
            }
        }

        if (type != MemoryTransactionType.Donate)
        {
            var relinquish = new MemoryRelinquishDescriptor(handle, 0, [sp.Id]).ToBytes();
            if (!sp.Write(mailbox.Tx, relinquish)) return new Result(StatusMalformed, RelinquishStep, pages);
            var done = sp.Call(new MemRelinquish());
            if (done.IsError) return Failed(done, RelinquishStep);
        }
        return new Result(status, status == StatusOk ? 0 : RetrieveStep, pages, mismatch);
    }
}
