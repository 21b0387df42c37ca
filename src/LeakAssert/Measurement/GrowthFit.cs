namespace LeakAssert.Measurement;

/// <summary>
/// A least-squares line through the exact retained sizes at the checkpoints, over the whole run and over its
/// second half. A leak keeps rising to the end; a cache that fills and stops has a flat second half.
/// </summary>
public sealed record GrowthFit(double SlopeBytesPerIteration, double RSquared, double TailSlopeBytesPerIteration, GrowthTrend Trend)
{
    // Below this many bytes across the run, movement is within the noise of a forced GC in a test host
    // (other threads allocate a few kB; see RUNTIME-FACTS section 4).
    internal const long NoiseBytes = 32 * 1024;

    internal static GrowthFit Of(IReadOnlyList<Checkpoint> points)
    {
        if (points.Count < 2) return new GrowthFit(0, 0, 0, GrowthTrend.Flat);
        var (slope, r2) = Fit(points);
        var tail = points.Skip(points.Count / 2).ToList();
        var (tailSlope, _) = tail.Count >= 2 ? Fit(tail) : (slope, r2);

        var span = points[^1].Iteration - points[0].Iteration;
        var tailSpan = tail[^1].Iteration - tail[0].Iteration;
        GrowthTrend trend;
        if (slope * span < NoiseBytes) trend = GrowthTrend.Flat;
        else if (tailSlope * tailSpan < NoiseBytes / 2 || tailSlope < slope / 4) trend = GrowthTrend.Plateau;
        else trend = GrowthTrend.Rising;
        return new GrowthFit(slope, r2, tailSlope, trend);
    }

    private static (double Slope, double RSquared) Fit(IReadOnlyList<Checkpoint> points)
    {
        double mx = points.Average(p => (double)p.Iteration), my = points.Average(p => (double)p.RetainedBytes);
        double sxx = 0, sxy = 0, syy = 0;
        foreach (var p in points)
        {
            double dx = p.Iteration - mx, dy = p.RetainedBytes - my;
            sxx += dx * dx; sxy += dx * dy; syy += dy * dy;
        }
        if (sxx == 0) return (0, 0);
        var slope = sxy / sxx;
        var r2 = syy == 0 ? 1 : sxy * sxy / (sxx * syy);
        return (slope, r2);
    }
}

/// <summary>The shape of retained growth across the checkpoints.</summary>
public enum GrowthTrend
{
    /// <summary>No growth beyond measurement noise.</summary>
    Flat,
    /// <summary>Grew, then stopped growing in the second half: a cache filling, not a leak.</summary>
    Plateau,
    /// <summary>Still rising at the end of the run: what a leak looks like.</summary>
    Rising,
}

/// <summary>The exact retained GC-heap size after a forced full compacting collection, after <see cref="Iteration"/> measured iterations.</summary>
public readonly record struct Checkpoint(int Iteration, long RetainedBytes);
