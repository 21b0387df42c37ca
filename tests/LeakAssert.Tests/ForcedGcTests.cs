using System.Runtime.CompilerServices;
using LeakAssert.Measurement;

namespace LeakAssert.Tests;

/// <summary>What a checkpoint's collections cost, and that the cheaper ones still give the exact retained size.</summary>
[Collection(HeapCollection.Name)]
public sealed class ForcedGcTests
{
    [Fact]
    public void Memory_other_tests_let_go_of_is_given_back_before_the_baseline()
    {
        // What a leak test met after parallel tests had let go of 114 MB: non-compacting collections free it but keep
        // it committed, and decommit it over the next ones, which private pages less the GC's commit read as 62 MB
        // of native growth.
        LetGoOf(120);
        ForcedGc.Collect();
        var before = GC.GetGCMemoryInfo(GCKind.Any);
        var slack = before.TotalCommittedBytes - before.HeapSizeBytes;

        slack.Should().BeGreaterThan(OutsideHeap.NativeNoiseFloorBytes, "a non-compacting collection keeps what 120 MB let go of committed");
        ForcedGc.ReturnFreeMemory(limit: OutsideHeap.NativeNoiseFloorBytes).Should().BeTrue("the GC holds {0:N0} B beyond its heap", slack);
        var after = GC.GetGCMemoryInfo(GCKind.Any);
        (after.TotalCommittedBytes - after.HeapSizeBytes).Should().BeLessThanOrEqualTo(OutsideHeap.NativeNoiseFloorBytes,
            "the slack of {0:N0} B was given back", slack);
        ForcedGc.ReturnFreeMemory(limit: OutsideHeap.NativeNoiseFloorBytes).Should().BeFalse("nothing is left to give back");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void LetGoOf(int megabytes)
    {
        var held = new List<byte[]>();
        for (var i = 0; i < megabytes * 1_000; i++) held.Add(new byte[1_000]);
        GC.KeepAlive(held);
    }

    [Fact]
    public void Garbage_kept_alive_only_for_its_finalizer_is_not_retained()
    {
        var before = ForcedGc.RetainedBytes();
        MakeFinalizableGarbage(200); // 200 x 10 kB, alive for their finalizers after the first collection

        var growth = ForcedGc.RetainedBytes() - before;

        growth.Should().BeLessThan(256 * 1024, "the finalizers ran and a second collection freed the 2 MB they held");
    }

    [Fact]
    public void A_checkpoint_without_new_finalizers_is_one_full_collection()
    {
        ForcedGc.RetainedBytes();
        var counts = Enumerable.Range(0, 5).Select(_ =>
        {
            var before = GC.CollectionCount(2);
            ForcedGc.RetainedBytes();
            return GC.CollectionCount(2) - before;
        }).Order().ToArray();

        counts[2].Should().Be(1, "the runtime's own gen2 callbacks queue finalizers at every collection and need no second one (counts {0})", string.Join(", ", counts));
    }

    [Fact]
    public void A_large_heap_gets_fewer_checkpoints_unless_fewer_were_asked_for()
    {
        Runner.CheckpointsFor(10L << 20, new LeakOptions()).Should().Be(16);
        Runner.CheckpointsFor(100L << 20, new LeakOptions()).Should().Be(Runner.LargeHeapCheckpoints);
        Runner.CheckpointsFor(100L << 20, new LeakOptions { Checkpoints = 4 }).Should().Be(4);
        Runner.LargeHeapCheckpoints.Should().BeGreaterThanOrEqualTo(GrowthFit.MinCheckpointsForTrend + 1, "the growth fit needs a baseline and five more");
    }

    [Fact]
    public void On_a_large_heap_the_growth_is_still_exact_and_a_leak_still_caught()
    {
        LargeHeap.Hold(80L << 20);
        try
        {
            var leak = new StaticListLeak();
            var profile = Leak.Profile(leak.Remember, iterations: 2_000, new LeakOptions { Sampling = SamplingMode.Off, HeapSnapshots = HeapSnapshotMode.Off });
            StaticListLeak.Clear();

            profile.Checkpoints.Should().HaveCount(Runner.LargeHeapCheckpoints + 1, profile.Report());
            profile.GrowthWithoutHostStep().Should().BeCloseTo(2_000 * 1_024, 16 * 1024, profile.Report());
            FluentActions.Invoking(() => profile.Should().NotRetainMoreThan(0.Bytes().PerIteration())).Should().Throw<Xunit.Sdk.XunitException>(profile.Report());
        }
        finally
        {
            LargeHeap.Release();
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void MakeFinalizableGarbage(int count)
    {
        for (var i = 0; i < count; i++) _ = new Finalizable();
    }

    private sealed class Finalizable
    {
        private readonly byte[] _payload = new byte[10_000];

        ~Finalizable() => GC.KeepAlive(_payload);
    }

    // A test host's live objects: small arrays held by a static, as a web app's and an ORM's are.
    private static class LargeHeap
    {
        private static byte[][]? _arrays;

        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Hold(long bytes)
        {
            _arrays = new byte[bytes / 96][];
            for (var i = 0; i < _arrays.Length; i++) _arrays[i] = new byte[64];
        }

        public static void Release() => _arrays = null;
    }
}
