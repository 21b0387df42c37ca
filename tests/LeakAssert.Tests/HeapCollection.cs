namespace LeakAssert.Tests;

/// <summary>
/// Every test that measures the real heap belongs here. xunit runs a collection with parallelization disabled on
/// its own, after the parallel ones, so no other test of this assembly allocates while a measurement runs.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapCollection
{
    public const string Name = "Heap measurements (run alone)";
}
