namespace LeakAssert.Measurement;

/// <summary>
/// Least-squares lines through the exact retained sizes at the checkpoints, over the whole run and over its second
/// half, each slope with a one-sided 99% lower confidence bound (Student's t). A leak keeps rising to the end: both
/// lower bounds are above the bound, and even at those lower bounds the growth clears the noise floor. A cache that
/// fills and stops has a second half that does not.
/// </summary>
public sealed record GrowthFit(
    double SlopeBytesPerIteration,
    double SlopeLowerBound99,
    double RSquared,
    double TailSlopeBytesPerIteration,
    double TailSlopeLowerBound99,
    long GrowthBytes,
    int Iterations,
    int TailIterations,
    GrowthTrend Trend)
{
    /// <summary>
    /// The one segment whose growth was unlike all the others and was set aside before fitting (a test host's one-off
    /// allocation or release, not the workload's steady growth), or null when none was.
    /// </summary>
    public SetAsideStep? SetAside { get; init; }

    /// <summary>
    /// Growth smaller than this over a whole run is not told apart from the test host's own activity (other threads
    /// allocate a few kB between checkpoints; RUNTIME-FACTS 4 measured ±8 kB).
    /// </summary>
    public const long NoiseFloorBytes = 16 * 1024;

    /// <summary>
    /// The noise floor this fit was judged against, in the unit of the fitted values: <see cref="NoiseFloorBytes"/>
    /// for the retained heap; a count or a size of its own for a counter outside the GC heap.
    /// </summary>
    public long NoiseFloor { get; init; } = NoiseFloorBytes;

    /// <summary>The confidence of the lower bounds.</summary>
    public const double Confidence = 0.99;

    /// <summary>
    /// Checkpoints, the baseline included, below which a leak cannot be told from a cache that levels off: the second
    /// half is the last <c>Count - Count / 2</c> checkpoints, and a line with a confidence bound needs 3 of them.
    /// </summary>
    internal const int MinCheckpointsForTrend = 5;

    /// <summary>Whether retained growth is, with 99% confidence, above <paramref name="bytesPerIteration"/> and still rising at the end.</summary>
    /// <remarks>
    /// Significance alone is not enough: in a quiet process the checkpoints are so steady that a few bytes of
    /// bookkeeping per checkpoint would be "significant". So the growth at the lower bounds must also clear the noise
    /// floor: the whole run's, and half of it for the second half.
    /// </remarks>
    public bool ExceedsWhileRising(double bytesPerIteration) =>
        SlopeLowerBound99 > bytesPerIteration && TailSlopeLowerBound99 > bytesPerIteration && RisesBeyondNoise;

    private bool RisesBeyondNoise =>
        SlopeLowerBound99 * Iterations >= NoiseFloor && TailSlopeLowerBound99 * TailIterations >= NoiseFloor / 2.0;

    /// <summary>A step must be this many noise floors from the median segment's growth, at least, to be set aside.</summary>
    internal const int StepFloors = 2;

    /// <summary>The fit of <paramref name="points"/>, judged against <paramref name="noiseFloor"/> in their unit.</summary>
    internal static GrowthFit Of(IReadOnlyList<Checkpoint> points, long noiseFloor = NoiseFloorBytes)
    {
        var step = OneOffStep(points, noiseFloor);
        var fit = Fit(step is null ? points : Without(points, step), noiseFloor);
        return fit with { SetAside = step };
    }

    /// <summary>
    /// The segment whose growth stands out from all the others: further from their median than both
    /// <see cref="StepFloors"/> noise floors and eight robust standard deviations (1.4826 x the median absolute deviation). One such
    /// segment in a run is something else in the process stepping the heap once, up or down: a leak grows in every
    /// segment alike. Only one is set aside, so growth that comes in many steps still counts.
    /// </summary>
    private static SetAsideStep? OneOffStep(IReadOnlyList<Checkpoint> points, long noiseFloor)
    {
        if (points.Count < 6) return null;
        var growth = new double[points.Count - 1];
        for (var k = 1; k < points.Count; k++) growth[k - 1] = points[k].RetainedBytes - points[k - 1].RetainedBytes;
        var median = Median(growth);
        var deviations = growth.Select(g => Math.Abs(g - median)).ToArray();
        var spread = 1.4826 * Median(deviations);
        var worst = Array.IndexOf(deviations, deviations.Max());
        if (deviations[worst] <= Math.Max(StepFloors * noiseFloor, 8 * spread)) return null;
        return new SetAsideStep(points[worst].Iteration, points[worst + 1].Iteration, (long)Math.Round(growth[worst] - median));
    }

    // The checkpoints as they would be had the step's segment grown like the median one.
    private static List<Checkpoint> Without(IReadOnlyList<Checkpoint> points, SetAsideStep step) =>
        points.Select(p => p.Iteration >= step.ToIteration ? p with { RetainedBytes = p.RetainedBytes - step.Bytes } : p).ToList();

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static GrowthFit Fit(IReadOnlyList<Checkpoint> points, long noiseFloor)
    {
        if (points.Count < 3) return new GrowthFit(0, 0, 0, 0, 0, 0, 0, 0, GrowthTrend.Flat) { NoiseFloor = noiseFloor };
        var all = Line.Fit(points);
        var tailPoints = points.Skip(points.Count / 2).ToList();
        var tail = Line.Fit(tailPoints);
        var fit = new GrowthFit(all.Slope, all.LowerBound, all.RSquared, tail.Slope, tail.LowerBound,
            points[^1].RetainedBytes - points[0].RetainedBytes,
            points[^1].Iteration - points[0].Iteration, tailPoints[^1].Iteration - tailPoints[0].Iteration, GrowthTrend.Flat) { NoiseFloor = noiseFloor };
        var trend = fit.ExceedsWhileRising(0) ? GrowthTrend.Rising
            : all.LowerBound * fit.Iterations >= noiseFloor ? GrowthTrend.Plateau
            : GrowthTrend.Flat;
        return fit with { Trend = trend };
    }

    private readonly record struct Line(double Slope, double LowerBound, double RSquared)
    {
        public static Line Fit(IReadOnlyList<Checkpoint> points)
        {
            var n = points.Count;
            double mx = points.Average(p => (double)p.Iteration), my = points.Average(p => (double)p.RetainedBytes);
            double sxx = 0, sxy = 0, syy = 0;
            foreach (var p in points)
            {
                double dx = p.Iteration - mx, dy = p.RetainedBytes - my;
                sxx += dx * dx; sxy += dx * dy; syy += dy * dy;
            }
            if (sxx == 0 || n < 3) return new Line(0, 0, 0);
            var slope = sxy / sxx;
            var residual = Math.Max(0, syy - slope * sxy);
            var standardError = Math.Sqrt(residual / (n - 2) / sxx);
            return new Line(slope, slope - StudentT99(n - 2) * standardError, syy == 0 ? 1 : sxy * sxy / (sxx * syy));
        }
    }

    // One-sided 99% quantiles of Student's t for 1 to 30 degrees of freedom; beyond, the Cornish-Fisher expansion.
    private static readonly double[] T99 =
    [
        31.821, 6.965, 4.541, 3.747, 3.365, 3.143, 2.998, 2.896, 2.821, 2.764, 2.718, 2.681, 2.650, 2.624, 2.602,
        2.583, 2.567, 2.552, 2.539, 2.528, 2.518, 2.508, 2.500, 2.492, 2.485, 2.479, 2.473, 2.467, 2.462, 2.457,
    ];

    internal static double StudentT99(int degreesOfFreedom)
    {
        if (degreesOfFreedom <= T99.Length) return T99[Math.Max(1, degreesOfFreedom) - 1];
        const double z = 2.3263478740;
        double v = degreesOfFreedom, z3 = z * z * z, z5 = z3 * z * z;
        return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v);
    }
}

/// <summary>The shape of retained growth across the checkpoints.</summary>
public enum GrowthTrend
{
    /// <summary>No steady growth beyond measurement noise.</summary>
    Flat,
    /// <summary>Grew, then stopped growing in the second half: a cache filling, not a leak.</summary>
    Plateau,
    /// <summary>Still rising at the end of the run, with 99% confidence: what a leak looks like.</summary>
    Rising,
}

/// <summary>A segment's one-off growth (negative for a release) beyond what the median segment grew, set aside before fitting.</summary>
public sealed record SetAsideStep(int FromIteration, int ToIteration, long Bytes);

/// <summary>The exact retained GC-heap size after a forced full blocking collection, after <see cref="Iteration"/> measured iterations.</summary>
public readonly record struct Checkpoint(int Iteration, long RetainedBytes);
