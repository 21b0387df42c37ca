namespace LeakAssert.Measurement;

/// <summary>
/// The repeat pass's evidence that rising growth stopped: over its last segments nothing rose beyond the noise floor. A leak
/// into a container that resizes in steps (a list's or a dictionary's backing array doubling) can also stay flat for
/// a while, on the room its last resize left; that room is at most what the resize itself added, so the flat stretch
/// counts only when a leak at the measured lower bound would have outgrown twice the largest step seen, and retained
/// four noise floors besides.
/// </summary>
/// <param name="FlatIterations">Iterations of the repeat pass's flat stretch, its last segments.</param>
/// <param name="FlatFrom">The iteration the flat stretch starts at.</param>
/// <param name="LargestStep">The largest growth of one segment before the flat stretch, over both passes.</param>
/// <param name="IsStaircase">Whether the growth before came in steps with flat segments between them.</param>
internal sealed record LevelOff(int FlatIterations, int FlatFrom, long LargestStep, bool IsStaircase)
{
    private const long Floor = GrowthFit.NoiseFloorBytes;

    // A segment that grew more than this is a step; one that moved less is flat (checkpoints repeat within a few hundred bytes).
    private const long StepBytes = Floor / 8;

    /// <summary>
    /// The flat stretch at the end of the repeat pass, or null when its last segment grew.
    /// <paramref name="repeat"/> starts with the pass's own baseline (or the measured pass's last checkpoint).
    /// </summary>
    public static LevelOff? Of(IReadOnlyList<Checkpoint> measured, IReadOnlyList<Checkpoint> repeat)
    {
        if (repeat.Count < 2) return null;
        // Back from the end while no checkpoint rose more than the floor above an earlier one: falling is not growing
        // (a weak table's old storage goes only once its finalizer has run).
        var from = repeat.Count - 1;
        var highest = repeat[^1].RetainedBytes;
        for (var k = repeat.Count - 2; k >= 0; k--)
        {
            highest = Math.Max(highest, repeat[k + 1].RetainedBytes);
            if (highest - repeat[k].RetainedBytes > Floor) break;
            from = k;
        }
        if (from == repeat.Count - 1) return null;
        var growth = Segments(measured).Concat(Segments(repeat.Take(from + 1).ToList())).ToList();
        var steps = growth.Count(g => g > StepBytes);
        var flatBetween = growth.SkipWhile(g => g <= StepBytes).Count(g => Math.Abs(g) <= StepBytes);
        return new LevelOff(repeat[^1].Iteration - repeat[from].Iteration, repeat[from].Iteration,
            growth.Count == 0 ? 0 : Math.Max(0, growth.Max()), steps >= 2 && flatBetween >= 1);
    }

    /// <summary>The least a steady leak at <paramref name="lowerBound"/> per iteration retains beyond <paramref name="bound"/> over the flat stretch.</summary>
    public double Predicted(double lowerBound, long bound) => (lowerBound - bound) * FlatIterations;

    /// <summary>The room a resizing container could have left for a leak to fill without growing: twice the largest step.</summary>
    public long Room => 2 * LargestStep;

    /// <summary>Whether the flat stretch rules out a leak at <paramref name="lowerBound"/> beyond <paramref name="bound"/>.</summary>
    public bool Refutes(double lowerBound, long bound) => Predicted(lowerBound, bound) >= Needed(LargestStep);

    /// <summary>Flat iterations that would rule out a leak at <paramref name="lowerBound"/> per iteration (bound 0).</summary>
    public long IterationsToRefute(double lowerBound) => lowerBound <= 0 ? long.MaxValue : (long)Math.Ceiling(Needed(LargestStep) / lowerBound);

    // Beyond the room by two noise floors (a leak less the floor of noise still shows one), and never under four.
    private static double Needed(long largestStep) => Math.Max(4.0 * Floor, 2.0 * largestStep + 2.0 * Floor);

    private static IEnumerable<long> Segments(IReadOnlyList<Checkpoint> points) =>
        points.Zip(points.Skip(1), (a, b) => b.RetainedBytes - a.RetainedBytes);
}
