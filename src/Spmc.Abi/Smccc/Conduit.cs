namespace Spmc.Abi.Smccc;

/// <summary>The instruction the caller trapped on. FF-A behaves the same for both; it is recorded for traces.</summary>
public enum Conduit
{
    Smc = 0,
    Hvc = 1,
}
