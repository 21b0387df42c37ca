using LeakAssert.Verdicts;

namespace LeakAssert.Tests;

/// <summary>
/// A plain test that calls Leak.Profile while other tests run beside it measures their memory too: the report says
/// so, with what they allocated, and names [LeakTest]. Inside a leak test, whose adapter runs it alone, it does not.
/// </summary>
[Collection(HeapCollection.Name)]
public sealed class PollutionTests
{
    private static readonly LeakOptions Exact = new() { Sampling = SamplingMode.Off, HeapSnapshots = HeapSnapshotMode.Off };

    /// <summary>What a parallel test does: 1 MB arrays, the last eight kept.</summary>
    private static LeakProfile BesideAParallelTest(Func<LeakProfile> measure)
    {
        using var stop = new CancellationTokenSource();
        var started = new ManualResetEventSlim();
        var neighbour = new Thread(() =>
        {
            var kept = new Queue<byte[]>();
            started.Set();
            while (!stop.IsCancellationRequested)
            {
                kept.Enqueue(new byte[1 << 20]);
                if (kept.Count > 8) kept.Dequeue();
                Thread.Sleep(1);
            }
        }) { IsBackground = true };
        neighbour.Start();
        started.Wait();
        try
        {
            return measure();
        }
        finally
        {
            stop.Cancel();
            neighbour.Join();
        }
    }

    private static LeakProfile Churn() => Leak.Profile(() => Garbage.Churn(), iterations: 1_000, Exact);

    [Fact]
    public void Other_threads_allocating_beside_a_plain_measurement_are_named_with_figures_and_the_cure()
    {
        var polluted = BesideAParallelTest(Churn);
        var alone = Churn();

        polluted.Report().Should().MatchRegex(@"Beside it: other threads allocated [0-9.]+MB during the measured iterations \(this thread [0-9.]+[kM]B\); the heap is process-wide, so what they kept counts as growth here unless it was work this workload handed them\. Measure it in a \[LeakTest\], which runs its test alone\.", polluted.Report());
        alone.Report().Should().NotContain("Beside it", alone.Report());
    }

    [Fact]
    public void Inside_a_leak_test_the_line_is_not_printed()
    {
        LeakProfile profile;
        using (FailureRecorder.Enter(new NoRecorder()))
            profile = BesideAParallelTest(Churn);

        profile.Report().Should().NotContain("Beside it", profile.Report());
    }

    private sealed class NoRecorder : FailureRecorder
    {
        public override string Record(LeakProfile profile, Verdict verdict) => "";
    }
}
