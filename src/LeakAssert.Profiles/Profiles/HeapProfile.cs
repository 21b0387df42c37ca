namespace LeakAssert.Profiles;

/// <summary>
/// A sampled heap profile in pprof's model: one row per (stack, type) with its four values, each an unbiased
/// estimate scaled up from the samples behind it. A diff is a profile too (values may be negative), so every
/// report works on diffs as on plain profiles.
/// </summary>
public sealed class HeapProfile
{
    internal HeapProfile(string name, IReadOnlyList<ProfileSample> samples, DateTimeOffset capturedAt)
    {
        Name = name;
        Samples = samples;
        CapturedAt = capturedAt;
    }

    /// <summary>"before", "after" or "diff".</summary>
    public string Name { get; }

    /// <summary>Rows, one per distinct (stack, type).</summary>
    public IReadOnlyList<ProfileSample> Samples { get; }

    /// <summary>When the snapshot behind it was taken.</summary>
    public DateTimeOffset CapturedAt { get; }

    /// <summary>Mean bytes between two samples; a constant of the .NET 10 runtime.</summary>
    public static long SamplingPeriodBytes => (long)SampleWeight.BytesPerSample;

    /// <summary>Sum of one value over all rows.</summary>
    public long Total(SampleValue value) => Samples.Sum(s => s[value]);

    /// <summary>Number of samples behind one value over all rows.</summary>
    public int SampleCount(SampleValue value) => Samples.Sum(s => s.SampleCount(value));

    /// <summary>The 95% half-width of the inuse_space total: 1.96 standard errors.</summary>
    public double InuseBytesMargin95 => 1.96 * Math.Sqrt(Samples.Sum(s => s.InuseBytesVariance));
}

/// <summary>
/// One row of a profile: the allocation stack (leaf first, trimmed to start at the workload), the allocated type,
/// the four estimated values and how many samples stand behind them.
/// </summary>
public sealed record ProfileSample(
    IReadOnlyList<Frame> Stack,
    string TypeName,
    long AllocObjects,
    long AllocSpace,
    long InuseObjects,
    long InuseSpace,
    int AllocSamples,
    int InuseSamples,
    double InuseBytesVariance)
{
    /// <summary>One of the four values.</summary>
    public long this[SampleValue value] => value switch
    {
        SampleValue.AllocObjects => AllocObjects,
        SampleValue.AllocSpace => AllocSpace,
        SampleValue.InuseObjects => InuseObjects,
        _ => InuseSpace,
    };

    /// <summary>Samples behind a value (a diff counts every sample that changed it, either way).</summary>
    public int SampleCount(SampleValue value) => value is SampleValue.AllocObjects or SampleValue.AllocSpace ? AllocSamples : InuseSamples;
}
