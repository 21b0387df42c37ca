using System.Reflection;

namespace LeakAssert;

/// <summary>How <see cref="Leak.Profile(Action, int, LeakOptions?)"/> runs and measures a workload. Every property has a default.</summary>
public sealed record LeakOptions
{
    /// <summary>Iterations run before measuring (JIT tiering and one-time caches settle). Default: a tenth of the iterations, 1 to 1,000.</summary>
    public int? Warmup { get; init; }

    /// <summary>
    /// Exact retained-size checkpoints across the measured iterations, each after a forced full GC (a few ms each, tens
    /// of ms on a heap of hundreds of MB). Default 16; 4 to 1,000; at most 6 when the baseline heap holds 64 MB or more.
    /// </summary>
    public int Checkpoints { get; init; } = 16;

    /// <summary>
    /// Time for the measured iterations when the caller does not give their number: a warmup times the workload and
    /// the count is chosen to fill this budget (at most 10,000,000, and fewer if the warmup's growth says the run
    /// would retain more than 256 MB), but there are always at least 16 measured iterations, so a slow workload
    /// overruns a short budget: 16 iterations of 200 ms take 3.2 s whatever the budget. Default 2 s; 10 ms to 1 hour.
    /// </summary>
    public TimeSpan TimeBudget { get; init; } = DefaultTimeBudget;

    /// <summary>The fewest measured iterations a time budget chooses, however slow the workload.</summary>
    internal const int MinBudgetIterations = 16;

    // The one home of the time budget's default and range; the [LeakTest] attributes' TimeBudgetSeconds share them.
    internal static readonly TimeSpan DefaultTimeBudget = TimeSpan.FromSeconds(2);
    internal static readonly TimeSpan MinTimeBudget = TimeSpan.FromMilliseconds(10);
    internal static readonly TimeSpan MaxTimeBudget = TimeSpan.FromHours(1);

    /// <summary>When to record a sampled heap profile by allocation site. The verdict never depends on it. Default <see cref="SamplingMode.WhenGrowing"/>.</summary>
    public SamplingMode Sampling { get; init; } = SamplingMode.WhenGrowing;

    /// <summary>
    /// Extra time LeakAssert may spend running iterations under the sampling session when the exact figures show
    /// rising growth and the profile would otherwise hold too few samples to say where it comes from. An attribution
    /// pass as long as the measured run is always allowed; this budget is for more. Default 10 s; zero to 1 hour.
    /// </summary>
    public TimeSpan AttributionBudget { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Samples wanted behind rising growth before its sites are trusted; they size the attribution pass. Default 20; 1 to 10,000.</summary>
    public int MinAttributionSamples { get; init; } = 20;

    /// <summary>
    /// When to take exact heap snapshots (the heap graph, as dotnet-gcdump takes it) that say what leaks by type and what
    /// holds it. They cost a few hundred milliseconds each, so by default only a run whose growth is still rising pays:
    /// around its repeat pass. <see cref="HeapSnapshotMode.Always"/> brackets the measured iterations of every run, which
    /// the type assertions (<c>NotRetainInstancesOf&lt;T&gt;()</c>) need to decide on a run that did not grow.
    /// </summary>
    public HeapSnapshotMode HeapSnapshots { get; init; } = HeapSnapshotMode.WhenGrowing;

    /// <summary>
    /// Growth by type that is known and accepted, with the reason (goleak's ignore options are the model): the report
    /// lists it apart with the reason, and the type assertions pass it. The retained-bytes verdict still counts it.
    /// </summary>
    public IReadOnlyList<AcceptedGrowth> AcceptedGrowth { get; init; } = [];

    /// <summary>
    /// How long one call may take, waiting for another call's measurement included, before it gives up: it then
    /// restores the GC latency mode, stops the sampling session and deletes its files, releases the measurement lock,
    /// and throws a <see cref="TimeoutException"/> naming the iteration that was running and for how long. A workload
    /// blocked in a wait is interrupted; one that never blocks runs on, on its own thread. Default (null): 5 minutes,
    /// or twice <see cref="TimeBudget"/> plus <see cref="AttributionBudget"/> plus a minute when that is longer;
    /// 100 ms to 24 hours, or <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> for none.
    /// </summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The timeout in force: <see cref="Timeout"/>, or its default for these budgets.</summary>
    internal TimeSpan RunTimeout => Timeout ?? TimeSpan.FromTicks(Math.Max(TimeSpan.FromMinutes(5).Ticks, (2 * (TimeBudget + AttributionBudget) + TimeSpan.FromMinutes(1)).Ticks));

    /// <summary>EventPipe's buffer for the session. Small buffers lose events under heavy GC traffic; tests use that.</summary>
    internal int SessionBufferMB { get; init; } = 64;

    internal int WarmupFor(int iterations) => Warmup ?? Math.Clamp(iterations / 10, 1, 1_000);

    internal static LeakOptions Validated(LeakOptions? options, int? iterations)
    {
        var o = options ?? new LeakOptions();
        if (Problem(o, iterations) is not { } problem) return o;
        throw problem.Parameter == nameof(AcceptedGrowth)
            ? new ArgumentNullException(problem.Parameter, problem.Sentence)
            : new ArgumentOutOfRangeException(problem.Parameter, problem.Sentence);
    }

    /// <summary>
    /// Why <paramref name="o"/> cannot run <paramref name="iterations"/> (null: a time budget chooses): the setting
    /// at fault and one sentence naming it as <paramref name="owner"/> spells it ("LeakOptions." here, "" for a
    /// [LeakTest] attribute's own argument); null when they can run.
    /// </summary>
    internal static (string Parameter, string Sentence)? Problem(LeakOptions o, int? iterations, string owner = "LeakOptions.")
    {
        if (iterations is < 1 or > 100_000_000)
            return (nameof(iterations), $"iterations must be between 1 and 100,000,000, but was {iterations}.");
        if (o.Warmup is < 0 or > 100_000_000)
            return (nameof(Warmup), $"{owner}Warmup must be between 0 and 100,000,000, but was {o.Warmup}.");
        if (o.Checkpoints is < 4 or > 1_000)
            return (nameof(Checkpoints), $"{owner}Checkpoints must be between 4 and 1,000, but was {o.Checkpoints}.");
        if (o.AttributionBudget < TimeSpan.Zero || o.AttributionBudget > TimeSpan.FromHours(1))
            return (nameof(AttributionBudget), $"{owner}AttributionBudget must be between zero and 1 hour, but was {o.AttributionBudget}.");
        if (o.TimeBudget < MinTimeBudget || o.TimeBudget > MaxTimeBudget)
            return (nameof(TimeBudget), $"{owner}TimeBudget must be between 10 ms and 1 hour, but was {o.TimeBudget}.");
        if (o.MinAttributionSamples is < 1 or > 10_000)
            return (nameof(MinAttributionSamples), $"{owner}MinAttributionSamples must be between 1 and 10,000, but was {o.MinAttributionSamples}.");
        if (o.Timeout is { } timeout && timeout != System.Threading.Timeout.InfiniteTimeSpan && (timeout < TimeSpan.FromMilliseconds(100) || timeout > TimeSpan.FromHours(24)))
            return (nameof(Timeout), $"{owner}Timeout must be between 100 ms and 24 hours, or Timeout.InfiniteTimeSpan for none, but was {timeout}.");
        if (!Enum.IsDefined(o.HeapSnapshots))
            return (nameof(HeapSnapshots), $"{owner}HeapSnapshots must be WhenGrowing, Always or Off, but was {(int)o.HeapSnapshots}.");
        if (o.AcceptedGrowth is null || o.AcceptedGrowth.Any(a => a is null))
            return (nameof(AcceptedGrowth), $"{owner}AcceptedGrowth must be a list of AcceptedGrowth.Of<T>(reason), but it was or held null.");
        if (!Enum.IsDefined(o.Sampling))
            return (nameof(Sampling), $"{owner}Sampling must be WhenGrowing, Always or Off, but was {(int)o.Sampling}.");
        return null;
    }
}

/// <summary>When LeakAssert takes the exact heap snapshots that say what leaks by type and what holds it.</summary>
public enum HeapSnapshotMode
{
    /// <summary>Only when growth is still rising: before and after the repeat pass. Runs that pass pay nothing.</summary>
    WhenGrowing,

    /// <summary>Before and after the measured iterations of every run (and around the repeat pass when it runs).</summary>
    Always,

    /// <summary>No heap snapshots.</summary>
    Off,
}

/// <summary>
/// Growth that a test accepts, and why: of one type (<see cref="Of{T}(string)"/>), of one leak group by the signature the
/// report prints beside it (<see cref="Signature"/>), or of whatever one field holds (<see cref="HeldBy{THolder}"/>).
/// </summary>
public sealed record AcceptedGrowth
{
    private AcceptedGrowth(string reason) => Reason = Checked(reason);

    /// <summary>The type whose instances are accepted, spelled as the heap snapshot spells it; null for the other forms.</summary>
    public string? TypeName { get; private init; }

    /// <summary>The leak group's signature; null for the other forms.</summary>
    public string? LeakSignature { get; private init; }

    /// <summary>The holder's type and field; null for the other forms.</summary>
    public (string Type, string Field)? Holder { get; private init; }

    /// <summary>Why the growth is accepted; printed in the report.</summary>
    public string Reason { get; }

    /// <summary>Accepts growth of instances of <typeparamref name="T"/>, and the leak groups whose boundary object is one, for <paramref name="reason"/>.</summary>
    public static AcceptedGrowth Of<T>(string reason) => new(reason) { TypeName = Snapshots.HeapSnapshot.NameOf(typeof(T)) };

    /// <summary>Accepts the leak group with this signature (the eight hex digits the report prints in brackets), for <paramref name="reason"/>.</summary>
    public static AcceptedGrowth Signature(string signature, string reason)
    {
        var r = Checked(reason);
        if (signature is null || signature.Length != 8 || !signature.All(char.IsAsciiHexDigitLower))
            throw new ArgumentException($"A leak signature is the eight lower-case hex digits the report prints in brackets (\"[3fa9c2d1]\"), but it was \"{signature}\".", nameof(signature));
        return new(r) { LeakSignature = signature };
    }

    /// <summary>Accepts every leak group held by <paramref name="field"/> of <typeparamref name="THolder"/> (an instance or a static field), for <paramref name="reason"/>.</summary>
    public static AcceptedGrowth HeldBy<THolder>(string field, string reason) => HeldBy(typeof(THolder), field, reason);

    /// <summary>Accepts every leak group held by <paramref name="field"/> of <paramref name="holder"/>; for a static class, which cannot be a type argument.</summary>
    public static AcceptedGrowth HeldBy(Type holder, string field, string reason)
    {
        ArgumentNullException.ThrowIfNull(holder);
        var r = Checked(reason);
        const BindingFlags Any = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;
        if (string.IsNullOrWhiteSpace(field) || holder.GetMember(field, MemberTypes.Field | MemberTypes.Property | MemberTypes.Event, Any).Length == 0)
            throw new ArgumentException($"An accepted holder names a field, property or event of {holder.Name}, but {holder.Name} has none called \"{field}\".", nameof(field));
        return new(r) { Holder = (Snapshots.HeapSnapshot.NameOf(holder), field) };
    }

    /// <summary>Whether this accepts the group: its boundary type, its signature or its holder.</summary>
    internal bool Accepts(Snapshots.LeakGroup group) =>
        (TypeName is not null && TypeName == group.BoundaryType)
        || (LeakSignature is not null && LeakSignature == group.Signature)
        // A static field's class is spelled with dots for nesting, as C# reads it.
        || (Holder is { } h && (h.Type == group.HolderType || h.Type.Replace('+', '.') == group.HolderType)
            && group.HolderField == h.Field);

    private static string Checked(string reason) =>
        string.IsNullOrWhiteSpace(reason)
            ? throw new ArgumentException("An accepted growth needs a reason, printed in the report, but it was empty.", nameof(reason))
            : reason;
}

/// <summary>When LeakAssert records the sampled heap profile that names allocation sites.</summary>
public enum SamplingMode
{
    /// <summary>
    /// Measure first, explain second: the measured iterations run without the EventPipe session (it roughly doubles
    /// the cost of an allocation); only when their exact growth is still rising does a second, sampled pass run to
    /// say where it comes from. Runs that pass pay nothing for sampling.
    /// </summary>
    WhenGrowing,

    /// <summary>The session covers the measured iterations themselves: before, after and diff of the measured window, every run.</summary>
    Always,

    /// <summary>No sampled profile; the exact figures only.</summary>
    Off,
}
