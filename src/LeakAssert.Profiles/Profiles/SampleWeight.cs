namespace LeakAssert.Profiles;

/// <summary>
/// .NET 10 samples each allocated byte with probability 1/102,400 per thread; the rate is a constant of the runtime.
/// An object of s bytes is therefore sampled with probability 1 - (1 - p)^s, and the unbiased (Horvitz-Thompson)
/// estimate counts each sample as 1/that objects and s/that bytes.
/// </summary>
internal static class SampleWeight
{
    public const double BytesPerSample = 102_400;
    private const double P = 1 / BytesPerSample;

    /// <summary>Probability that an object of this size is sampled.</summary>
    public static double InclusionProbability(long objectSize) =>
        -double.ExpM1(Math.Max(1, objectSize) * double.LogP1(-P));

    /// <summary>The variance one sample adds to a byte estimate: (1 - pi) (s / pi)^2.</summary>
    public static double ByteVariance(long objectSize)
    {
        var pi = InclusionProbability(objectSize);
        var w = objectSize / pi;
        return (1 - pi) * w * w;
    }
}
