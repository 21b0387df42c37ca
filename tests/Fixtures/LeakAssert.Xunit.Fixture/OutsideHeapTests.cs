using FluentAssertions;
using LeakAssert;
using LeakAssert.Xunit;
using Xunit;

namespace Fixtures;

/// <summary>
/// Leaks outside the GC heap fail their leak tests whatever the heap's bound, naming what grew; their fixed twins pass.
/// </summary>
[Trait("Category", "OutsideHeap")]
public sealed class OutsideHeapTests
{
    // Each generated assembly retains a few hundred bytes of heap, within the bound: the assemblies fail the test.
    [LeakTest(Iterations = 300, MaxRetainedBytesPerIteration = 1024)]
    public void A_serializer_that_generates_an_assembly_per_call() => GeneratedSerializers.GenerateEveryCall();

    [LeakTest(Iterations = 300, MaxRetainedBytesPerIteration = 1024)]
    public void A_serializer_that_caches_its_generated_assembly() => GeneratedSerializers.GenerateOnce();

    [LeakTest]
    public void A_component_that_starts_a_thread_per_call_and_never_stops_it()
    {
        try
        {
            Leak.Profile(Workers.StartAndForget, iterations: 300).Should().NotLeakThreads();
        }
        finally
        {
            Workers.Release();
        }
    }

    [LeakTest]
    public void A_component_that_joins_its_thread() => Leak.Profile(Workers.StartAndJoin, iterations: 300).Should().NotLeakThreads();
}
