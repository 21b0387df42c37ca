using LeakAssert.Measurement;
using static LeakAssert.Text.Numbers;

namespace LeakAssert.Verdicts;

/// <summary>
/// A decision of the domain, read by the report and the assertions alike, on the exact figures only, never on sampled ones. A total bound compares the growth from the baseline
/// to the last measured checkpoint. A per-iteration bound fails only when growth is still rising: the fitted slope
/// over the whole run and over its second half both exceed the bound, so a cache that fills and stops passes.
/// </summary>
internal sealed record Verdict(bool Passed, string Bound, string Finding)
{
    /// <summary>True for a verdict on a counter outside the GC heap (OutsideHeapVerdicts): the report then shows them.</summary>
    public bool ConcernsOutsideHeap { get; init; }

    public static Verdict Total(LeakProfile p, ByteSize bound)
    {
        var passed = p.RetainedGrowth <= bound;
        return new Verdict(passed, $"at most {bound} retained over {Count(p.Iterations)} iterations",
            passed ? $"retained {p.RetainedGrowth}, within the bound" : $"retained {p.RetainedGrowth}, more than the bound");
    }

    /// <summary>
    /// Instances of one type gained between the heap snapshots, against at most <paramref name="maxPerIteration"/> an
    /// iteration. Without snapshots it cannot be decided, and says so rather than pass.
    /// </summary>
    public static Verdict Instances(LeakProfile p, string typeName, double maxPerIteration)
    {
        var bound = maxPerIteration == 0
            ? $"no retained instances of {typeName}"
            : Inv($"at most {maxPerIteration:0.##} retained instances of {typeName} per iteration");
        if (p.HeapGrowth is not { } heap)
            return new Verdict(false, bound, $"could not be decided: no heap snapshots were taken ({p.HeapSnapshotProblem}); LeakOptions.HeapSnapshots = HeapSnapshotMode.Always takes them on every run");
        var count = heap.CountOf(typeName);
        var perIteration = heap.Iterations == 0 ? 0 : (double)count / heap.Iterations;
        var gained = Inv($"gained {Count(count)} instances over {Count(heap.Iterations)} iterations of {heap.Pass} ({perIteration:0.00} per iteration)");
        if (heap.Accepted.FirstOrDefault(a => a.TypeName == typeName) is { } accepted)
            return new Verdict(true, bound, $"{gained}, accepted: {accepted.Reason}");
        var passed = count <= maxPerIteration * heap.Iterations;
        return new Verdict(passed, bound, passed ? $"{gained}, within the bound" : gained);
    }

    public static Verdict PerIteration(LeakProfile p, PerIterationBound bound)
    {
        var g = p.Growth;
        var expected = $"at most {bound.Size} retained per iteration";
        // Undecidable is not a pass: with 2 to 4 checkpoints a steady 1 MB leak read as "flat" or "levelled off".
        if (p.Checkpoints.Count < GrowthFit.MinCheckpointsForTrend)
            return new Verdict(false, expected, TooFewCheckpoints(p));
        var leak = g.ExceedsWhileRising(bound.Size.Bytes);
        string finding;
        if (leak && p.RepeatPass is { } pass && NotRepeated(g, bound.Size.Bytes, pass))
        {
            leak = false;
            finding = $"grew {Bytes(g.SlopeBytesPerIteration)} per iteration over the measured iterations, but retained only {Bytes(pass.GrowthBytes)} over {Count(pass.Iterations)} more, where a leak of that size would have retained at least {Bytes(g.SlopeLowerBound99 * pass.Iterations)}: the growth did not repeat (a cache that filled, or something else in the process)";
        }
        else if (leak && p.LevelOff is { } flat && flat.Refutes(g.SlopeLowerBound99, bound.Size.Bytes))
        {
            leak = false;
            finding = LevelledOff(g, flat, bound.Size.Bytes);
        }
        else if (leak)
            finding = $"retained {Bytes(g.SlopeBytesPerIteration)} per iteration and still rising at the end (99% lower bounds: {Bytes(g.SlopeLowerBound99)} over the run, {Bytes(g.TailSlopeLowerBound99)} over its second half)";
        else if (g.Trend == GrowthTrend.Flat)
            finding = $"grew {Bytes(g.GrowthBytes)}, not beyond the {Bytes(GrowthFit.NoiseFloorBytes)} noise floor with 99% confidence";
        else if (g.SlopeLowerBound99 <= bound.Size.Bytes)
            finding = $"retained {Bytes(g.SlopeBytesPerIteration)} per iteration, not above the bound with 99% confidence (lower bound {Bytes(g.SlopeLowerBound99)})";
        else
            finding = $"growth levelled off: the second half's 99% lower bound is {Bytes(g.TailSlopeLowerBound99)} per iteration";
        return new Verdict(!leak, expected, finding);
    }

    /// <summary>
    /// "grew 448B per iteration over the measured iterations, in steps with flat stretches between, as a resizing
    /// container does; then the repeat pass rose no more than 16kB over its last 1,375 iterations, where a leak of at
    /// least 404B per iteration (the 99% lower bound) would have added 543kB, more than the 494kB of spare room a
    /// resizing container could have held (twice its largest step): the growth levelled off".
    /// </summary>
    private static string LevelledOff(GrowthFit g, LevelOff flat, long bound)
    {
        var steps = flat.IsStaircase ? ", in steps with flat stretches between, as a resizing container does;" : ";";
        var beyond = bound == 0 ? "" : $" beyond the bound";
        return $"grew {Bytes(g.SlopeBytesPerIteration)} per iteration over the measured iterations{steps} then the repeat pass rose no more than {Bytes(GrowthFit.NoiseFloorBytes)} over its last {Count(flat.FlatIterations)} iterations, where a leak of at least {Bytes(g.SlopeLowerBound99)} per iteration (the 99% lower bound) would have added {Bytes(flat.Predicted(g.SlopeLowerBound99, bound))}{beyond}, more than the {Bytes(flat.Room)} of spare room a resizing container could have held (twice its largest step): the growth levelled off";
    }

    /// <summary>Why a per-iteration bound cannot be decided on so few checkpoints, and the iterations it needs.</summary>
    /// <remarks>
    /// The runner takes a checkpoint after every iteration when there are fewer iterations than checkpoints (at least
    /// 4 are asked for), so n iterations give n + 1 checkpoints, the baseline included.
    /// </remarks>
    private static string TooFewCheckpoints(LeakProfile p) =>
        $"had only {Count(p.Checkpoints.Count)} checkpoints over {Count(p.Iterations)} iterations, too few to tell a leak from a cache that levels off: a per-iteration bound needs at least {Count(GrowthFit.MinCheckpointsForTrend - 1)} iterations";

    /// <summary>
    /// The repeat pass refutes a leak when it retained far less than a leak would have: a step from a test host's
    /// background thread does not come back, a leak always does.
    /// </summary>
    /// <remarks>
    /// A leak at the 99% lower-bound slope retains at least P = (lower bound - bound) x n beyond the bound over the
    /// pass's n iterations. P must clear the noise floor 4 times (a shorter pass cannot tell), and the pass, beyond the
    /// bound, must retain under P/4: a leak less the floor of noise still shows 3P/4, at least twice the floor more. The
    /// pass must also stay under the floor per measured run's worth of iterations, so that growth at a rate the measured
    /// run would call a leak is never refuted. Both margins scale with the pass, where a fixed 16 kB did not: a
    /// 51,000-iteration pass that crept past 16 kB (0.3 B per iteration, against at least 8 predicted) kept a one-off
    /// step failing, and so did a pass that retained within a non-zero bound.
    /// </remarks>
    private static bool NotRepeated(GrowthFit g, long bound, (int Iterations, long GrowthBytes) pass)
    {
        var predicted = (g.SlopeLowerBound99 - bound) * pass.Iterations;
        var beyondBound = pass.GrowthBytes - (double)bound * pass.Iterations;
        var measuredRuns = Math.Max(1.0, (double)pass.Iterations / Math.Max(1, g.Iterations));
        return predicted >= 4 * GrowthFit.NoiseFloorBytes
            && beyondBound < Math.Min(predicted / 4, GrowthFit.NoiseFloorBytes * measuredRuns);
    }
}
