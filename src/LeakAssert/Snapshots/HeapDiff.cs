namespace LeakAssert.Snapshots;

/// <summary>
/// What leaks, exactly, between the heap snapshots taken before and after a run of iterations: the leak groups (each the
/// object every iteration adds, what holds it and what it retains), and each type's growth in instances and bytes.
/// </summary>
/// <param name="Types">Types whose instances grew, leading first; the ones accepted by the caller are not among them.</param>
/// <param name="Accepted">Types whose growth the caller accepted, with the reason they gave.</param>
/// <param name="Iterations">The iterations between the two snapshots.</param>
/// <param name="Pass">Which iterations those were, in words ("the repeat pass", "the measured iterations").</param>
/// <param name="Objects">Live objects in the second snapshot.</param>
/// <param name="TakenIn">Time the snapshots took, the grouping included.</param>
public sealed record HeapDiff(IReadOnlyList<TypeGrowth> Types, IReadOnlyList<AcceptedTypeGrowth> Accepted, int Iterations, string Pass, int Objects, TimeSpan TakenIn)
{
    private static readonly string StringType = HeapSnapshot.NameOf(typeof(string));
    private static readonly string TotalType = HeapSnapshot.NameOf(typeof(TypeTotal));

    /// <summary>The leak groups, largest first by retained bytes; the accepted ones are in <see cref="AcceptedLeaks"/>.</summary>
    public IReadOnlyList<LeakGroup> Leaks { get; init; } = [];

    /// <summary>
    /// Steady groups too small and rare to list beside the rest (under 5% of their bytes, under one per 10 iterations):
    /// the report gives them one line, the .leaks.json artifact in full.
    /// </summary>
    public IReadOnlyList<LeakGroup> MinorLeaks { get; init; } = [];

    /// <summary>The leak groups the caller accepted, with the reason they gave.</summary>
    public IReadOnlyList<AcceptedLeak> AcceptedLeaks { get; init; } = [];

    /// <summary>Bytes gained that belong to no steady group: filled once, or not in proportion over the two halves.</summary>
    public long OneOffBytes { get; init; }

    /// <summary>Objects gained that belong to no steady group.</summary>
    public long OneOffObjects { get; init; }

    /// <summary>Whether a snapshot in the middle of the stretch split it into halves (the steadiness rule's evidence).</summary>
    public bool Halved { get; init; }

    /// <summary>Why there are no leak groups although the snapshots were taken (new objects could not be told from old); null when there are.</summary>
    public string? LeaksProblem { get; init; }

    /// <summary>
    /// The whole number of instances a leak adds each iteration when <paramref name="count"/> is that steady (within
    /// half a percent, or two, of a multiple of the iterations), else 0: a leak adds the same objects every time, while
    /// a test host's strings, a resized array or a cache's buckets come in no such step.
    /// </summary>
    internal static long Steady(long count, int iterations)
    {
        if (iterations <= 0) return 0;
        var each = (long)Math.Round((double)count / iterations);
        return each >= 1 && Math.Abs(count - each * iterations) <= Math.Max(2, count / 200) ? each : 0;
    }

    /// <summary>Rows kept, leading first.</summary>
    internal const int MaxTypes = 8;

    // Every type's growth in instances, not only the leading ones': the type assertions ask for any type.
    private IReadOnlyDictionary<string, long> _counts = new Dictionary<string, long>();

    /// <summary>How many instances of a type were gained (0 when none, negative when some were freed).</summary>
    public long CountOf(string typeName) => _counts.GetValueOrDefault(typeName);

    /// <summary>The groups <paramref name="found"/> split into those the caller accepted and the rest.</summary>
    /// <param name="found">The groups.</param>
    /// <param name="halved">Whether a middle snapshot split the stretch.</param>
    /// <param name="acceptedBecause">The reason the caller accepted a group, or null.</param>
    internal HeapDiff WithLeaks(LeakGroups.Found found, bool halved, Func<LeakGroup, string?> acceptedBecause)
    {
        var leaks = new List<LeakGroup>();
        var acceptedLeaks = new List<AcceptedLeak>();
        foreach (var group in found.Leaks)
        {
            if (acceptedBecause(group) is { } reason) acceptedLeaks.Add(new AcceptedLeak(group, reason));
            else leaks.Add(group);
        }
        return this with { Leaks = leaks, MinorLeaks = found.Minor, AcceptedLeaks = acceptedLeaks, OneOffBytes = found.OneOffBytes, OneOffObjects = found.OneOffObjects, Halved = halved };
    }

    /// <summary>
    /// The diff of <paramref name="before"/>'s counts and <paramref name="after"/>, ranked so that the leaking object
    /// comes first and not the arrays that hold it: a count that grows by a steady number per iteration is the signal
    /// (one Session and one byte[] per iteration rank above the Entry[] a dictionary resized into a few times), then
    /// objects before arrays, then bytes.
    /// </summary>
    internal static HeapDiff Between(IReadOnlyDictionary<string, TypeTotal> before, HeapSnapshot after, int iterations, string pass,
        IReadOnlyList<(string? TypeName, string Reason)> accepted)
    {
        // The first snapshot's counts are themselves alive in the second: one name string and one total per type.
        var own = new Dictionary<string, long>(StringComparer.Ordinal) { [StringType] = before.Count, [TotalType] = before.Count };
        var counts = before.Keys.Union(after.Types.Keys).ToDictionary(
            name => name,
            name => (after.Types.GetValueOrDefault(name)?.Count ?? 0) - (before.GetValueOrDefault(name)?.Count ?? 0) - own.GetValueOrDefault(name),
            StringComparer.Ordinal);
        var grown = after.Types
            .Select(t => (Name: t.Key, Count: counts[t.Key], Bytes: t.Value.Bytes - (before.GetValueOrDefault(t.Key)?.Bytes ?? 0)))
            .Where(t => t.Count > 0)
            .OrderByDescending(t => Steady(t.Count, iterations))
            .ThenByDescending(t => Steady(t.Count, iterations) > 0 ? 0 : t.Count)
            .ThenBy(t => t.Name.EndsWith(']') ? 1 : 0)
            .ThenByDescending(t => t.Bytes)
            .ThenBy(t => t.Name, StringComparer.Ordinal)
            .ToList();
        var kept = new List<TypeGrowth>();
        var acceptedRows = new List<AcceptedTypeGrowth>();
        foreach (var t in grown)
        {
            if (accepted.FirstOrDefault(a => a.TypeName == t.Name) is { TypeName: not null } a)
            {
                acceptedRows.Add(new AcceptedTypeGrowth(t.Name, t.Count, t.Bytes, a.Reason));
                continue;
            }
            if (kept.Count == MaxTypes) continue;
            kept.Add(new TypeGrowth(t.Name, t.Count, t.Bytes, iterations));
        }
        return new HeapDiff(kept, acceptedRows, iterations, pass, after.ObjectCount, after.TakenIn) { _counts = counts };
    }
}

/// <summary>One type's exact growth in instances and bytes between the snapshots.</summary>
public sealed record TypeGrowth(string TypeName, long Count, long Bytes, int Iterations)
{
    /// <summary>Instances gained per iteration.</summary>
    public double CountPerIteration => Iterations == 0 ? 0 : (double)Count / Iterations;
}

/// <summary>A type whose growth the caller accepted, and why.</summary>
public sealed record AcceptedTypeGrowth(string TypeName, long Count, long Bytes, string Reason);
