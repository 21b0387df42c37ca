using FluentAssertions;
using LeakAssert;
using LeakAssert.MSTest;

namespace Fixtures;

/// <summary>
/// [LeakTestMethod] in a project as `dotnet new mstest` makes it (method-level parallelism): the class is
/// [DoNotParallelize], so MSTest runs these after the parallel tests, one at a time.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class LeakTests
{
    private static readonly List<byte[]> Kept = [];
    public static int Sink;

    [LeakTestMethod(Iterations = 1_000, MaxRetainedBytesPerIteration = 0)]
    [TestCategory("Report")]
    public void What_the_body_keeps_is_caught() => Kept.Add(new byte[100]);

    [LeakTestMethod(Iterations = 1_000, MaxRetainedBytesPerIteration = 0)]
    [TestCategory("Report")]
    public void Garbage_is_not_retained() => Sink = new byte[256].Length;

    [LeakTestMethod]
    [TestCategory("Forms")]
    public void A_static_list_leaks()
    {
        var profile = Leak.Profile(() => Kept.Add(new byte[1024]), iterations: 2_000);
        profile.Should().NotRetainMoreThan(64.Bytes().PerIteration());
    }

    [LeakTestMethod]
    [TestCategory("Forms")]
    public async Task Garbage_does_not_leak_async()
    {
        var profile = await Leak.ProfileAsync(async () => { await Task.Yield(); Sink = new byte[1024].Length; }, iterations: 500);
        profile.Should().NotRetainMoreThan(64.Bytes().PerIteration());
    }

    // One leak test per row, each reported under its own name.
    [LeakTestMethod(Iterations = 1_000, MaxRetainedBytesPerIteration = 0)]
    [TestCategory("Forms")]
    [DataRow(16)]
    [DataRow(4096)]
    public void Garbage_of_any_size_does_not_leak(int size) => Sink = new byte[size].Length;

    [LeakTestMethod]
    [TestCategory("Forms")]
    public void A_body_that_never_profiles() => Sink = 1;

    // MSTest's [Timeout] stops a workload that would run far longer.
    [LeakTestMethod(Iterations = 1_000_000, MaxRetainedBytesPerIteration = 0)]
    [Timeout(1_000, CooperativeCancellation = true)]
    [TestCategory("Forms")]
    public void A_timeout_stops_the_measurement() => Thread.Sleep(1);

    [LeakTestMethod(Iterations = 0, MaxRetainedBytes = 0)]
    [TestCategory("Forms")]
    public void Zero_iterations() => Sink = 1;
}

/// <summary>Without [DoNotParallelize], in an assembly that runs methods in parallel: the leak test refuses to measure.</summary>
[TestClass]
public sealed class ParallelLeakTests
{
    [LeakTestMethod(Iterations = 1_000, MaxRetainedBytesPerIteration = 0)]
    [TestCategory("Isolation")]
    public void Beside_parallel_tests() => LeakTests.Sink = new byte[16].Length;

    [LeakTestMethod(Iterations = 1_000, MaxRetainedBytesPerIteration = 0)]
    [DoNotParallelize]
    [TestCategory("Isolation")]
    public void Marked_DoNotParallelize_runs() => LeakTests.Sink = new byte[16].Length;

    [TestMethod]
    [TestCategory("Isolation")]
    public void An_ordinary_parallel_test() => LeakTests.Sink = 2;
}
