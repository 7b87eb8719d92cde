namespace Spmc.Core.Calls;

/// <summary>
/// A call that will be answered later: the normal world (or an SP) waiting for a partition to give back the
/// cycles it lent, or a remote partition's own FFA_MSG_WAIT / DIRECT_RESP / FFA_YIELD waiting for the
/// partition to be run again. Completed at most once, under the owning system's lock.
/// </summary>
public sealed class Waiter(ushort caller, uint vcpu, string what, bool parked = false)
{
    private readonly TaskCompletionSource<FfaAnswer> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ushort Caller { get; } = caller;
    public uint Vcpu { get; } = vcpu;
    public string What { get; } = what;

    /// <summary>True for a partition's own call waiting to be resumed (no timeout); false for a lender of cycles.</summary>
    public bool IsParked { get; } = parked;
    public FfaAnswer? Result { get; private set; }
    public bool Completed => Result is not null;
    public Task<FfaAnswer> Task => _done.Task;

    /// <summary>Sets the answer; false when it was already answered.</summary>
    public bool Complete(FfaAnswer answer)
    {
        if (Result is not null) return false;
        Result = answer;
        _done.TrySetResult(answer);
        return true;
    }
}
