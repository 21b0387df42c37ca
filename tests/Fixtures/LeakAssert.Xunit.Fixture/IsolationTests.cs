using FluentAssertions;
using LeakAssert;
using Xunit;

namespace Fixtures;

// Three polluters in three collections, which xunit runs in parallel; each retains ~76 MB over 6 s, long enough that a busy machine still measures the control while they grow.
[Trait("Category", "Isolation")]
public sealed class PolluterA { [Fact] public void Retains_memory_while_it_runs() => Timeline.Pollute("polluter", TimeSpan.FromSeconds(6)); }

[Trait("Category", "Isolation")]
public sealed class PolluterB { [Fact] public void Retains_memory_while_it_runs() => Timeline.Pollute("polluter", TimeSpan.FromSeconds(6)); }

[Trait("Category", "Isolation")]
public sealed class PolluterC { [Fact] public void Retains_memory_while_it_runs() => Timeline.Pollute("polluter", TimeSpan.FromSeconds(6)); }

[Trait("Category", "Isolation")]
public sealed class IsolationTests : IDisposable
{
    public static byte[]? Sink;
    private readonly long _start = Timeline.Now;

    // Garbage-heavy and leak-free: passes only if no polluter runs while it measures.
    [LeakTest(Iterations = 5_000, MaxRetainedBytes = 64 * 1024)]
    public void Body_form_leak_test_is_not_polluted() => Sink = new byte[512];

    [LeakTest]
    public void Plain_form_leak_test_is_not_polluted()
    {
        var start = Timeline.Now;
        var profile = Leak.Profile(() => Sink = new byte[512], iterations: 5_000);
        Timeline.Record("leaktest", start, Timeline.Now);
        profile.Should().NotRetainMoreThan(64.KB());
    }

    // One instance serves every iteration of the body form: constructor to Dispose spans the whole measurement.
    public void Dispose() => Timeline.Record("leaktest-instance", _start, Timeline.Now);
}

// The control: the same measurement in a plain [Fact] runs beside the polluters and is expected to see them.
[Trait("Category", "Isolation")]
public sealed class IsolationControl
{
    [Fact]
    public void The_same_measurement_without_LeakTest_sees_the_polluters()
    {
        Thread.Sleep(500); // let the polluters start
        var start = Timeline.Now;
        var profile = Leak.Profile(() => IsolationTests.Sink = new byte[512], iterations: 5_000);
        Timeline.Record("control", start, Timeline.Now);
        profile.Should().NotRetainMoreThan(64.KB());
    }
}
