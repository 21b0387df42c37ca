using LeakAssert.Sampling;

namespace LeakAssert.Tests;

/// <summary>The replay of GC survival and movement events over sampled addresses, event by event.</summary>
public sealed class LivenessReplayTests
{
    private const ulong Gen0 = 0x1000_0000, Gen1 = 0x2000_0000, Gen2 = 0x3000_0000, Region = 0x40_0000;

    private static void EphemeralGc(LivenessReplay r, Action ranges)
    {
        r.GcStarted(0);
        r.GenerationRange(2, Gen2, Region);
        r.GenerationRange(1, Gen1, Region);
        r.GenerationRange(0, Gen0, Region);
        ranges();
        r.HeapHistory();
        r.GenerationRange(0, Gen0, Region); // end-of-GC ranges: ignored
        r.GcEnded();
    }

    [Fact]
    public void A_moved_object_follows_its_new_address_and_survives_a_later_full_gc_there()
    {
        var r = new LivenessReplay();
        var id = r.Allocated(Gen0 + 0x100);
        EphemeralGc(r, () => r.Moved(Gen0 + 0x80, Gen1 + 0x10, 0x200));
        r.IsAlive(id).Should().BeTrue();

        r.GcStarted(2);
        r.Survived(Gen1 + 0x90, 0x8); // Gen0+0x100 moved to Gen1+0x90
        r.GcEnded();
        r.IsAlive(id).Should().BeTrue();
    }

    [Fact]
    public void An_object_in_condemned_space_that_neither_moved_nor_survived_is_dead()
    {
        var r = new LivenessReplay();
        var garbage = r.Allocated(Gen0 + 0x100);
        var kept = r.Allocated(Gen0 + 0x300);
        EphemeralGc(r, () => r.Survived(Gen0 + 0x300, 0x40));

        r.IsAlive(garbage).Should().BeFalse();
        r.IsAlive(kept).Should().BeTrue();
    }

    [Fact]
    public void An_ephemeral_gc_does_not_touch_older_generations()
    {
        var r = new LivenessReplay();
        var old = r.Allocated(Gen2 + 0x100);
        EphemeralGc(r, () => r.Survived(Gen0, 0x10));

        r.IsAlive(old).Should().BeTrue();
        r.GcsWithoutRanges.Should().Be(0);
    }

    [Fact]
    public void A_full_gc_condemns_everything_including_the_large_object_heap()
    {
        var r = new LivenessReplay();
        var lohGarbage = r.Allocated(0x5000_0000);
        var lohKept = r.Allocated(0x5000_1000);
        r.GcStarted(2);
        r.Survived(0x5000_1000, 100_024);
        r.GcEnded();

        r.IsAlive(lohGarbage).Should().BeFalse();
        r.IsAlive(lohKept).Should().BeTrue();
    }

    [Fact]
    public void Ranges_after_the_moves_are_the_end_of_gc_state_and_do_not_condemn()
    {
        var r = new LivenessReplay();
        var promoted = r.Allocated(Gen0 + 0x100);
        r.GcStarted(0);
        r.GenerationRange(0, Gen0, Region);
        r.Moved(Gen0 + 0x100, Gen1 + 0x100, 0x20);
        r.GenerationRange(0, Gen1, Region); // a region that became gen0 after the GC
        r.GcEnded();

        r.IsAlive(promoted).Should().BeTrue();
    }
}
