using LeakAssert.NUnit;
using NUnit.Framework;

namespace Fixtures;

/// <summary>Each attribute here is wrong in one way; each test must fail with one sentence naming it.</summary>
[Category("BadArguments")]
public sealed class BadArgumentTests
{
    [LeakTest(Iterations = 1_000)]
    public void Iterations_without_a_bound() { }

    [LeakTest(Iterations = 0, MaxRetainedBytes = 1024)]
    public void Zero_iterations() { }

    [LeakTest(MaxRetainedBytes = -1)]
    public void Negative_bound() { }

    [LeakTest(TimeBudgetSeconds = 0, MaxRetainedBytes = 1024)]
    public void Zero_time_budget() { }

    [LeakTest(MaxRetainedBytes = 1024)]
    public int Returns_a_value() => 1;

    private static readonly List<byte[]> Kept = [];

    // A bare [LeakTest] whose body never calls Leak.Profile: run once as a plain test, it would pass this leak.
    [LeakTest]
    public void A_body_that_never_profiles() => Kept.Add(new byte[1024]);

    // An async void body returns at its first await: the runner could measure only the part before it.
    [LeakTest(Iterations = 100, MaxRetainedBytes = 1024)]
    public async void An_async_void_body()
    {
        await Task.Yield();
        Kept.Add(new byte[1024]);
    }

    // A good one beside them still runs and passes: bad arguments fail their own test, not the run. (Its bound is
    // loose: it proves the run goes on, and the framework is still reporting the failures above while it measures.)
    [LeakTest(Iterations = 100, MaxRetainedBytes = 1024 * 1024)]
    public void A_valid_leak_test_still_runs() { }
}
