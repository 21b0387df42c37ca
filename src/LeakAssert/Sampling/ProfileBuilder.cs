using LeakAssert.Profiles;

namespace LeakAssert.Sampling;

/// <summary>
/// Builds the before, after and diff profiles from one set of sampled allocations. Each is a weighting of the
/// same objects (+1, 0 or -1 per value), so the diff's variance is that of the objects that changed, not a sum of
/// two independent errors.
/// </summary>
internal static class ProfileBuilder
{
    public static HeapProfile Before(IReadOnlyList<SampledAllocation> all, DateTimeOffset at) =>
        Build("before", all, at, a => (a.AllocatedBeforeBaseline ? 1 : 0, a.AliveAtBaseline ? 1 : 0));

    public static HeapProfile After(IReadOnlyList<SampledAllocation> all, DateTimeOffset at) =>
        Build("after", all, at, a => (1, a.AliveAtEnd ? 1 : 0));

    /// <summary>After minus before, as pprof's <c>-base</c>: what the measured iterations allocated and retained.</summary>
    public static HeapProfile Diff(IReadOnlyList<SampledAllocation> all, DateTimeOffset at) =>
        Build("diff", all, at, a => (a.AllocatedBeforeBaseline ? 0 : 1, (a.AliveAtEnd ? 1 : 0) - (a.AliveAtBaseline ? 1 : 0)));

    private static HeapProfile Build(string name, IReadOnlyList<SampledAllocation> all, DateTimeOffset at, Func<SampledAllocation, (int Alloc, int Inuse)> weigh)
    {
        var rows = new Dictionary<(string Key, string Type), Accumulator>();
        foreach (var a in all)
        {
            var (alloc, inuse) = weigh(a);
            if (alloc == 0 && inuse == 0) continue;
            var key = (StackKey(a.Stack), a.TypeName);
            if (!rows.TryGetValue(key, out var acc)) rows[key] = acc = new Accumulator(a.Stack, a.TypeName);
            var pi = SampleWeight.InclusionProbability(a.Size);
            if (alloc != 0)
            {
                acc.AllocObjects += alloc / pi;
                acc.AllocSpace += alloc * a.Size / pi;
                acc.AllocSamples++;
            }
            if (inuse != 0)
            {
                acc.InuseObjects += inuse / pi;
                acc.InuseSpace += inuse * a.Size / pi;
                acc.InuseSamples++;
                acc.InuseVariance += SampleWeight.ByteVariance(a.Size);
            }
        }
        var samples = rows.Values
            .Select(r => new ProfileSample(r.Stack, r.Type,
                (long)Math.Round(r.AllocObjects), (long)Math.Round(r.AllocSpace),
                (long)Math.Round(r.InuseObjects), (long)Math.Round(r.InuseSpace),
                r.AllocSamples, r.InuseSamples, r.InuseVariance))
            .OrderByDescending(s => Math.Abs(s.InuseSpace))
            .ThenByDescending(s => s.AllocSpace)
            .ThenBy(s => StackKey(s.Stack), StringComparer.Ordinal)
            .ToArray();
        return new HeapProfile(name, samples, at);
    }

    internal static string StackKey(IReadOnlyList<Frame> stack) => string.Join('\n', stack.Select(f => f.ToString()));

    private sealed class Accumulator(IReadOnlyList<Frame> stack, string type)
    {
        public IReadOnlyList<Frame> Stack { get; } = stack;
        public string Type { get; } = type;
        public double AllocObjects, AllocSpace, InuseObjects, InuseSpace, InuseVariance;
        public int AllocSamples, InuseSamples;
    }
}
