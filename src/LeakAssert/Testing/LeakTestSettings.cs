using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using LeakAssert.Measurement;
using LeakAssert.Reporting;
using LeakAssert.Verdicts;
using static LeakAssert.Text.Numbers;

namespace LeakAssert.Testing;

/// <summary>
/// What a [LeakTest] attribute says, shared by the xUnit and NUnit adapters: with a bound it makes the test body the
/// workload; without one the body calls <see cref="Leak.Profile(Action, int, LeakOptions?)"/> itself. Null means
/// "not set" so that an explicit value is always checked.
/// </summary>
internal sealed record LeakTestSettings(int? Iterations, int? Warmup, long? MaxRetainedBytes, long? MaxRetainedBytesPerIteration, double? TimeBudgetSeconds)
{
    /// <summary>The attributes' TimeBudgetSeconds when not set: <see cref="LeakOptions.TimeBudget"/>'s default.</summary>
    public static double DefaultTimeBudgetSeconds => LeakOptions.DefaultTimeBudget.TotalSeconds;

    /// <summary>True when the body runs as the workload; false when it profiles something itself.</summary>
    public bool BodyIsWorkload => MaxRetainedBytes is not null || MaxRetainedBytesPerIteration is not null;

    /// <summary>The one-sentence reason these settings cannot run, or null when they can.</summary>
    public string? Problem(string attribute)
    {
        if (MaxRetainedBytes is < 0)
            return $"{attribute}: MaxRetainedBytes must be zero or more bytes, but was {Count(MaxRetainedBytes.Value)}.";
        if (MaxRetainedBytesPerIteration is < 0)
            return $"{attribute}: MaxRetainedBytesPerIteration must be zero or more bytes, but was {Count(MaxRetainedBytesPerIteration.Value)}.";
        if (!BodyIsWorkload && (Iterations is not null || Warmup is not null || TimeBudgetSeconds is not null))
            return $"{attribute}: Iterations, Warmup and TimeBudgetSeconds make the test body the workload, which needs a bound: set MaxRetainedBytes or MaxRetainedBytesPerIteration, or remove them and call Leak.Profile in the body.";
        if (Iterations is not null && TimeBudgetSeconds is not null)
            return $"{attribute}: set Iterations or TimeBudgetSeconds, not both: the time budget chooses the count when Iterations is not set.";
        if (TimeBudgetSeconds is { } seconds && !(seconds >= LeakOptions.MinTimeBudget.TotalSeconds && seconds <= LeakOptions.MaxTimeBudget.TotalSeconds))
            return $"{attribute}: TimeBudgetSeconds must be between {LeakOptions.MinTimeBudget.TotalSeconds.ToString(CultureInfo.InvariantCulture)} and {LeakOptions.MaxTimeBudget.TotalSeconds.ToString(CultureInfo.InvariantCulture)}, but was {seconds.ToString(CultureInfo.InvariantCulture)}.";
        if (!BodyIsWorkload) return null;
        // The attribute's own arguments are named as the attribute spells them: "Warmup", not "LeakOptions.Warmup".
        return LeakOptions.Problem(Options(), Iterations ?? 1, owner: "") is { } problem ? $"{attribute}: {problem.Sentence}" : null;
    }

    /// <summary>Why <paramref name="method"/> cannot be the workload under these settings (one sentence), or null.</summary>
    public string? BodyProblem(string attribute, MethodInfo method)
    {
        if (!BodyIsWorkload) return null;
        if (method.ReturnType != typeof(void) && method.ReturnType != typeof(Task) && method.ReturnType != typeof(ValueTask))
            return $"{attribute}: a body that is the workload must return void, Task or ValueTask, but returns {method.ReturnType.Name}.";
        // An async void body returns at its first await: each iteration would be measured up to there and no further.
        if (method.ReturnType == typeof(void) && method.GetCustomAttribute<AsyncStateMachineAttribute>() is not null)
            return $"{attribute}: an async void body cannot be awaited, so only its part before the first await would be measured; return Task instead.";
        return null;
    }

    /// <summary>
    /// Why a bare [LeakTest] whose body has run fails although nothing in it did (one sentence), or null: a body that
    /// never called Leak.Profile nor ran a leak assertion measured nothing and would pass whatever it leaks.
    /// </summary>
    public string? NothingMeasured(string attribute, FailureRecorder test) =>
        BodyIsWorkload || test.Measured
            ? null
            : $"{attribute}: the body measured nothing, so it would pass whatever it leaks; either call Leak.Profile in the body, or set a bound (MaxRetainedBytes or MaxRetainedBytesPerIteration) to make the body the workload.";

    private LeakOptions Options() => new()
    {
        Warmup = Warmup,
        TimeBudget = TimeBudgetSeconds is { } s ? TimeSpan.FromSeconds(s) : LeakOptions.DefaultTimeBudget,
    };

    /// <summary>
    /// Runs <paramref name="workload"/> as the test body under these settings and decides every bound that was set.
    /// Returns null when the test passed, else the failure message: the report and what the test's recorder kept.
    /// </summary>
    public async Task<string?> RunBodyAsync(Workload workload, FailureRecorder test)
    {
        var options = LeakOptions.Validated(Options(), Iterations);
        // A sync body runs on the test's own thread, as the framework would run it.
        var profile = workload.IsAsync
            ? await Runner.RunAsync(workload, Iterations, options).ConfigureAwait(false)
            : Runner.Run(workload, Iterations, options);
        var verdict = LeakVerdict.Decide(profile, MaxRetainedBytes is { } total ? new ByteSize(total) : null,
            MaxRetainedBytesPerIteration is { } each ? new ByteSize(each).PerIteration() : null);
        return verdict.Passed ? null : FailureMessage.For(profile, verdict, test);
    }

    private static int _prepared;

    /// <summary>
    /// Readies the process for a leak test: once per process, a short measurement of an empty workload, so that
    /// LeakAssert's own first-use costs (JIT tiering of the runner, its event source) are not counted in a user's first
    /// leak test; then, before every leak test, a wait for the heap to stop changing after the tests before it.
    /// </summary>
    public static void PrepareProcess()
    {
        if (Interlocked.Exchange(ref _prepared, 1) == 0)
            Runner.Run(Workload.Of(static () => { }), 2_000, LeakOptions.Validated(new LeakOptions { Sampling = SamplingMode.Off }, 2_000));
        ForcedGc.Quiesce(TimeSpan.FromSeconds(1));
    }
}
