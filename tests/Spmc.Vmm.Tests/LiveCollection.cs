namespace Spmc.Vmm.Tests;

/// <summary>
/// Every test here shares one live server and runs one after another: QEMU boots are CPU-bound (TCG), and running
/// them side by side on a small CI machine only makes each slower.
/// </summary>
[CollectionDefinition(Name)]
public sealed class LiveCollection : ICollectionFixture<LiveSpmc>
{
    public const string Name = "live Spmc";
}
