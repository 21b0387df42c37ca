namespace LeakAssert.Profiles;

/// <summary>
/// pprof's <c>-base</c> for two profile files: PROFILE minus BASE, row by row, keyed by (stack, type). As in pprof,
/// the base's values are negated and merged into the profile, and a diff is a profile like any other, so top and
/// traces print it unchanged. Rows that cancel out on all four values are dropped.
/// </summary>
/// <remarks>
/// Two files do not tell which samples they share, so a row's sample counts and inuse_space variance are those of
/// both files added up: exact for profiles of separate runs, and for LeakAssert's before and after of one run (whose
/// objects overlap) an upper bound; LeakAssert's own diff file counts only the samples that changed. The values
/// themselves are the same as the diff file's up to each row's rounding to whole bytes and objects.
/// </remarks>
internal static class ProfileDiff
{
    public static HeapProfile Subtract(HeapProfile profile, HeapProfile @base)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(@base);
        var rows = new Dictionary<(string Stack, string Type), Row>();
        var order = new List<Row>();
        void Merge(ProfileSample s, int sign)
        {
            var key = (Key(s.Stack), s.TypeName);
            if (!rows.TryGetValue(key, out var row))
            {
                rows[key] = row = new Row(s.Stack, s.TypeName, key.Item1);
                order.Add(row);
            }
            row.AllocObjects += sign * s.AllocObjects;
            row.AllocSpace += sign * s.AllocSpace;
            row.InuseObjects += sign * s.InuseObjects;
            row.InuseSpace += sign * s.InuseSpace;
            row.AllocSamples += s.AllocSamples;
            row.InuseSamples += s.InuseSamples;
            row.InuseVariance += s.InuseBytesVariance;
        }
        foreach (var s in profile.Samples) Merge(s, +1);
        foreach (var s in @base.Samples) Merge(s, -1);

        var samples = order
            .Where(r => r.AllocObjects != 0 || r.AllocSpace != 0 || r.InuseObjects != 0 || r.InuseSpace != 0)
            .OrderByDescending(r => Math.Abs(r.InuseSpace))
            .ThenByDescending(r => r.AllocSpace)
            .ThenBy(r => r.Key, StringComparer.Ordinal)
            .Select(r => new ProfileSample(r.Stack, r.Type, r.AllocObjects, r.AllocSpace, r.InuseObjects, r.InuseSpace, r.AllocSamples, r.InuseSamples, r.InuseVariance))
            .ToArray();
        return new HeapProfile("diff", samples, profile.CapturedAt);
    }

    // Every field of every frame, as pprof keys a location by function, system name, file and line.
    private static string Key(IReadOnlyList<Frame> stack) =>
        string.Join('\n', stack.Select(f => $"{f.Function}\t{f.Module}\t{f.File}\t{f.Line}"));

    private sealed class Row(IReadOnlyList<Frame> stack, string type, string key)
    {
        public IReadOnlyList<Frame> Stack { get; } = stack;
        public string Type { get; } = type;
        public string Key { get; } = key;
        public long AllocObjects, AllocSpace, InuseObjects, InuseSpace;
        public int AllocSamples, InuseSamples;
        public double InuseVariance;
    }
}
