using FluentAssertions;
using LeakAssert;
using LeakAssert.NUnit;
using NUnit.Framework;

// Fixtures run in parallel, four at a time: the polluters below overlap each other.
[assembly: Parallelizable(ParallelScope.Fixtures)]
[assembly: LevelOfParallelism(4)]

namespace Fixtures;

[Category("Isolation")]
public sealed class PolluterA { [Test] public void Retains_memory_while_it_runs() => Timeline.Pollute("polluter", TimeSpan.FromSeconds(6)); }

[Category("Isolation")]
public sealed class PolluterB { [Test] public void Retains_memory_while_it_runs() => Timeline.Pollute("polluter", TimeSpan.FromSeconds(6)); }

[Category("Isolation")]
public sealed class PolluterC { [Test] public void Retains_memory_while_it_runs() => Timeline.Pollute("polluter", TimeSpan.FromSeconds(6)); }

[Category("Isolation")]
public sealed class IsolationTests
{
    public static byte[]? Sink;
    private long _start;

    [SetUp]
    public void Start() => _start = Timeline.Now;

    [TearDown]
    public void Stop() => Timeline.Record("leaktest", _start, Timeline.Now);

    // Garbage-heavy and leak-free: passes only if no polluter runs while it measures.
    [LeakTest(Iterations = 5_000, MaxRetainedBytes = 64 * 1024)]
    public void Body_form_leak_test_is_not_polluted() => Sink = new byte[512];

    [LeakTest]
    public void Plain_form_leak_test_is_not_polluted()
    {
        var profile = Leak.Profile(() => Sink = new byte[512], iterations: 5_000);
        profile.Should().NotRetainMoreThan(64.KB());
    }
}

// The control: the same measurement in a plain [Test] runs beside the polluters and is expected to see them.
[Category("Isolation")]
public sealed class IsolationControl
{
    [Test]
    public void The_same_measurement_without_LeakTest_sees_the_polluters()
    {
        Thread.Sleep(500); // let the polluters start
        var start = Timeline.Now;
        var profile = Leak.Profile(() => IsolationTests.Sink = new byte[512], iterations: 5_000);
        Timeline.Record("control", start, Timeline.Now);
        profile.Should().NotRetainMoreThan(64.KB());
    }
}
