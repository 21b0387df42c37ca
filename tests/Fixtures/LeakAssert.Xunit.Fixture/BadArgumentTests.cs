using Xunit;

namespace Fixtures;

/// <summary>Each attribute here is wrong in one way; each test must fail with one sentence naming it.</summary>
[Trait("Category", "BadArguments")]
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

    [LeakTest(Iterations = 10, MaxRetainedBytes = 1024)]
    public void Parameters_without_data(int n) => _ = n;

    // A good one beside them still runs and passes: bad arguments fail their own test, not the run. (Its bound is
    // loose: it proves the run goes on, and the framework is still reporting the failures above while it measures.)
    [LeakTest(Iterations = 100, MaxRetainedBytes = 1024 * 1024)]
    public void A_valid_leak_test_still_runs() { }
}
