using System.Text.RegularExpressions;
using LeakAssert.Measurement;
using LeakAssert.Sampling;
using LeakAssert.Snapshots;
using Microsoft.Diagnostics.Tracing;

namespace LeakAssert.Tests;

/// <summary>
/// A failure inside the tool (a trace that cannot be read, a TraceEvent whose layout LeakAssert cannot read, a heap
/// snapshot or a counter that throws) costs what it measures and nothing else: the exact verdict decides, and the
/// report says in one sentence what is missing.
/// </summary>
[Collection(HeapCollection.Name)]
public sealed class InternalFaultTests
{
    private static readonly LeakOptions Sampled = new() { AttributionBudget = TimeSpan.Zero, HeapSnapshots = HeapSnapshotMode.Off };

    private static LeakProfile LeakWithTrace(Action<string> damage)
    {
        Faults.BeforeTraceRead = damage;
        try
        {
            var leak = new StaticListLeak();
            return Leak.Profile(leak.Remember, iterations: 2_000, Sampled);
        }
        finally
        {
            Faults.BeforeTraceRead = null;
            StaticListLeak.Clear();
        }
    }

    private static void StillFails(LeakProfile profile)
    {
        profile.Profiles.Should().BeNull(profile.Report());
        profile.Report().Should().Contain("No heap profile: " + profile.SamplingProblem, profile.Report());
        var act = () => profile.Should().NotRetainMoreThan(64.Bytes().PerIteration());
        act.Should().Throw<Xunit.Sdk.XunitException>(profile.Report()).WithMessage("*retained *B per iteration and still rising*");
    }

    [Fact]
    public void A_disk_that_fills_while_the_trace_is_read_is_one_sentence_and_the_leak_still_fails()
    {
        var profile = LeakWithTrace(_ => throw new IOException("No space left on device"));

        profile.SamplingProblem.Should().Be("the trace could not be read (IOException: No space left on device)", profile.Report());
        StillFails(profile);
    }

    [Fact]
    public void A_trace_overwritten_with_garbage_is_one_sentence_and_the_leak_still_fails()
    {
        var profile = LeakWithTrace(path =>
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Write);
            var junk = new byte[Math.Min(file.Length - 64, 1 << 20)];
            new Random(7).NextBytes(junk);
            file.Position = 64;
            file.Write(junk);
        });

        profile.SamplingProblem.Should().MatchRegex("^(the trace could not be read \\(|the EventPipe session lost|the checkpoint events did not reach)", profile.Report());
        StillFails(profile);
    }

    [Fact]
    public void A_truncated_trace_is_one_sentence_and_the_leak_still_fails()
    {
        var profile = LeakWithTrace(path =>
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Write);
            file.SetLength(file.Length / 2);
        });

        profile.SamplingProblem.Should().StartWith("the trace could not be read (FormatException: ", profile.Report());
        StillFails(profile);
    }

    [Fact]
    public void A_TraceEvent_whose_layout_cannot_be_read_starts_no_session_says_so_and_the_verdicts_stand()
    {
        LeakProfile leaky, clean;
        using (EventStacks.UseRecordField("noSuchField"))
        {
            var leak = new StaticListLeak();
            leaky = Leak.Profile(leak.Remember, iterations: 2_000, Sampled);
            StaticListLeak.Clear();
            clean = Leak.Profile(() => Garbage.Churn(), iterations: 500, Sampled with { Sampling = SamplingMode.Always });
        }

        var version = typeof(TraceEvent).Assembly.GetName().Version;
        leaky.SamplingProblem.Should().Be($"this TraceEvent ({version}) keeps no native event record where LeakAssert reads one, so sampled stacks cannot be read", leaky.Report());
        StillFails(leaky);
        clean.SamplingProblem.Should().Be(leaky.SamplingProblem, clean.Report());
        clean.Should().NotRetainMoreThan(0.Bytes().PerIteration(), clean.Report());
    }

    [Fact]
    public void The_TraceEvent_the_package_declares_is_the_one_whose_layout_is_read()
    {
        EventStacks.Find(EventStacks.RecordField).Problem.Should().BeNull();
        EventStacks.Find("noSuchField").Problem.Should().Contain("so sampled stacks cannot be read");

        // The package's range starts at the version the tests run on.
        var props = File.ReadAllText(Path.Combine(DemoProcessTests.RepositoryRoot(), "Directory.Packages.props"));
        var range = Regex.Match(props, "Include=\"Microsoft.Diagnostics.Tracing.TraceEvent\" Version=\"\\[([0-9.]+),").Groups[1].Value;
        var version = typeof(TraceEvent).Assembly.GetName().Version!;
        range.Should().Be($"{version.Major}.{version.Minor}.{version.Build}", "the tests exercise the layout on the lowest version the package accepts");
    }

    [Fact]
    public void A_first_heap_snapshot_that_throws_is_one_sentence_and_the_leak_still_fails()
    {
        Faults.BeforeSnapshot = () => throw new InvalidOperationException("the dump's events made no sense.");
        LeakProfile profile;
        try
        {
            var leak = new StaticListLeak();
            profile = Leak.Profile(leak.Remember, iterations: 2_000, Sampled with { HeapSnapshots = HeapSnapshotMode.WhenGrowing });
        }
        finally
        {
            Faults.BeforeSnapshot = null;
            StaticListLeak.Clear();
        }

        profile.HeapGrowth.Should().BeNull(profile.Report());
        profile.HeapSnapshotProblem.Should().Be("the first heap snapshot failed (InvalidOperationException: the dump's events made no sense)", profile.Report());
        var act = () => profile.Should().NotRetainMoreThan(64.Bytes().PerIteration());
        act.Should().Throw<Xunit.Sdk.XunitException>(profile.Report()).WithMessage("*still rising*");
    }

    [Fact]
    public void A_last_heap_snapshot_that_throws_after_a_real_first_one_is_one_sentence_and_the_leak_still_fails()
    {
        var calls = 0;
        Faults.BeforeSnapshot = () =>
        {
            if (++calls > 1) throw new OutOfMemoryException("Insufficient memory to continue the execution of the program.");
        };
        LeakProfile profile;
        try
        {
            var leak = new StaticListLeak();
            profile = Leak.Profile(leak.Remember, iterations: 2_000, Sampled with { HeapSnapshots = HeapSnapshotMode.WhenGrowing });
        }
        finally
        {
            Faults.BeforeSnapshot = null;
            StaticListLeak.Clear();
        }

        calls.Should().BeGreaterThanOrEqualTo(2, profile.Report());
        profile.HeapSnapshotProblem.Should().Be("the last heap snapshot failed (OutOfMemoryException: Insufficient memory to continue the execution of the program)", profile.Report());
        profile.Report().Should().Contain(profile.HeapSnapshotProblem);
        var act = () => profile.Should().NotRetainMoreThan(64.Bytes().PerIteration());
        act.Should().Throw<Xunit.Sdk.XunitException>(profile.Report()).WithMessage("*still rising*");
    }

    [Fact]
    public void Counters_outside_the_heap_that_cannot_be_read_are_not_measured_not_flat_and_the_heap_still_decides()
    {
        Faults.BeforeCounterReading = () => throw new UnauthorizedAccessException("Access to the path '/proc/self/fd' is denied.");
        LeakProfile leaky, clean;
        try
        {
            var leak = new StaticListLeak();
            leaky = Leak.Profile(leak.Remember, iterations: 2_000, Sampled with { Sampling = SamplingMode.Off });
            StaticListLeak.Clear();
            clean = Leak.Profile(() => Garbage.Churn(), iterations: 500, Sampled with { Sampling = SamplingMode.Off });
        }
        finally
        {
            Faults.BeforeCounterReading = null;
            StaticListLeak.Clear();
        }

        const string Problem = "the counters outside the GC heap could not be read (UnauthorizedAccessException: Access to the path '/proc/self/fd' is denied)";
        leaky.OutsideHeap.Should().BeNull(leaky.Report());
        leaky.OutsideHeapProblem.Should().Be(Problem, leaky.Report());
        leaky.Report().Should().Contain($"Outside the GC heap: not measured, because {Problem}; assemblies, threads, handles and native memory were not judged.");
        var heap = () => leaky.Should().NotRetainMoreThan(64.Bytes().PerIteration());
        heap.Should().Throw<Xunit.Sdk.XunitException>(leaky.Report()).WithMessage("*still rising*");
        var handles = () => clean.Should().NotLeakHandles();
        handles.Should().Throw<Xunit.Sdk.XunitException>(clean.Report()).WithMessage("*was not measured outside the GC heap*");
        clean.Should().NotRetainMoreThan(0.Bytes().PerIteration(), clean.Report());
    }
}
