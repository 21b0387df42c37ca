using System.Diagnostics;
using LeakAssert.Profiles;
using LeakAssert.Sampling;

namespace LeakAssert.Measurement;

/// <summary>
/// Runs a workload and measures it: warmup, a baseline snapshot, N iterations in segments with an exact retained
/// size after each, more iterations if the sampled profile needs them, then the profiles. Data flows one way:
/// run, measure and sample, profile; the report and the assertions only read the result.
/// </summary>
internal static class Runner
{
    // The GC heap and the EventPipe session are process-wide: two measurements at once would see each other's
    // objects. Concurrent calls in one process therefore take turns.
    private static readonly SemaphoreSlim OneAtATime = new(1, 1);

    public static async ValueTask<LeakProfile> RunAsync(Workload workload, int? iterations, LeakOptions options)
    {
        await OneAtATime.WaitAsync().ConfigureAwait(false);
        try
        {
            return await MeasureAsync(workload, iterations, options).ConfigureAwait(false);
        }
        finally
        {
            OneAtATime.Release();
        }
    }

    private static async ValueTask<LeakProfile> MeasureAsync(Workload workload, int? requestedIterations, LeakOptions options)
    {
        var clock = Stopwatch.StartNew();
        int iterations = 0, warmup = 0;
        var directory = Directory.CreateTempSubdirectory("leakassert-");
        EventPipeRecorder? recorder = null;
        string? samplingProblem = options.Sampling ? null : "sampling was turned off (LeakOptions.Sampling = false)";
        // Sized up front: a list that grows inside the window would add its own bytes to the checkpoints.
        var checkpoints = new List<Checkpoint>(options.Checkpoints + 1);
        var extension = new List<Checkpoint>(4);
        var traffic = new TrafficMeter(workload.IsAsync);
        var measuredTime = TimeSpan.Zero;
        DateTimeOffset baselineAt, endAt;
        try
        {
            using (ForcedGc.NoBackgroundGc())
            {
                if (options.Sampling)
                {
                    recorder = EventPipeRecorder.TryStart(directory.FullName, options.SessionBufferMB, out var startFailure);
                    if (recorder is null) samplingProblem = startFailure;
                }
                try
                {
                    if (requestedIterations is { } n)
                    {
                        iterations = n;
                        warmup = options.WarmupFor(n);
                        await workload.Run(0, warmup, "warmup").ConfigureAwait(false);
                    }
                    else
                    {
                        (iterations, warmup) = await Calibrate(workload, options).ConfigureAwait(false);
                    }

                    checkpoints.Add(Snapshot(0, 0));
                    baselineAt = DateTimeOffset.UtcNow;
                    var done = 0;
                    var segments = Math.Min(options.Checkpoints, iterations);
                    for (var k = 1; k <= segments; k++)
                    {
                        var upTo = (int)((long)iterations * k / segments);
                        measuredTime += await Timed(traffic, () => workload.Run(done, upTo - done, "measured")).ConfigureAwait(false);
                        done = upTo;
                        checkpoints.Add(Snapshot(k, done));
                    }

                    var extra = recorder is null ? 0 : ExtraIterationsForAttribution(checkpoints, iterations, measuredTime, options);
                    for (var k = 1; k <= Math.Min(4, extra); k++)
                    {
                        var upTo = iterations + (int)((long)extra * k / Math.Min(4, extra));
                        await workload.Run(done, upTo - done, "attribution").ConfigureAwait(false);
                        done = upTo;
                        extension.Add(Snapshot(checkpoints.Count + extension.Count, done));
                    }
                    endAt = DateTimeOffset.UtcNow;
                }
                finally
                {
                    // Stopped here, inside the no-background-GC window, also when the workload threw.
                    if (recorder is not null && !recorder.TryStop(out var stopFailure)) samplingProblem = stopFailure;
                }
            }

            var profiles = recorder is not null && samplingProblem is null
                ? ReadProfiles(recorder.TracePath, workload.IsAsync ? workload.Module : null, baselineAt, endAt, out samplingProblem)
                : null;
            return new LeakProfile(iterations, warmup, requestedIterations is null ? options.TimeBudget : null, checkpoints, extension, traffic.PerIteration(iterations), traffic.Scope,
                profiles, samplingProblem, options.MinAttributionSamples, clock.Elapsed, measuredTime);
        }
        finally
        {
            recorder?.Dispose();
            DeleteQuietly(directory);
        }
    }

    /// <summary>
    /// Warmup that also times the workload: batches of 1, 2, 4, ... until a tenth of the budget has passed (or the
    /// given warmup count ran), then as many iterations as fill the budget, fewer if the warmup's retained growth
    /// says the run would hold more than 256 MB.
    /// </summary>
    private static async ValueTask<(int Iterations, int Warmup)> Calibrate(Workload workload, LeakOptions options)
    {
        const long MaxRetainedBytes = 256L << 20;
        var before = ForcedGc.RetainedBytes();
        var done = 0;
        var spent = TimeSpan.Zero;
        for (var batch = 1; ; batch = Math.Min(batch * 2, 1 << 20))
        {
            if (options.Warmup is { } fixedCount) batch = Math.Max(1, fixedCount - done);
            var start = Stopwatch.GetTimestamp();
            await workload.Run(done, batch, "warmup").ConfigureAwait(false);
            spent += Stopwatch.GetElapsedTime(start);
            done += batch;
            if (options.Warmup is not null || spent >= options.TimeBudget / 10) break;
        }
        var growthPerIteration = (double)Math.Max(0, ForcedGc.RetainedBytes() - before) / done;
        var byTime = options.TimeBudget.TotalSeconds * done / Math.Max(spent.TotalSeconds, 1e-9);
        var byMemory = growthPerIteration > 0 ? MaxRetainedBytes / growthPerIteration : double.MaxValue;
        var iterations = (int)Math.Clamp(Math.Min(byTime, byMemory), 16, 10_000_000);
        return (iterations, done);
    }

    private static Checkpoint Snapshot(int index, int iteration)
    {
        var retained = ForcedGc.RetainedBytes();
        CheckpointEvents.Log.Snapshot(index);
        return new Checkpoint(iteration, retained);
    }

    private static async ValueTask<TimeSpan> Timed(TrafficMeter traffic, Func<ValueTask> run)
    {
        var start = Stopwatch.GetTimestamp();
        traffic.Start();
        await run().ConfigureAwait(false);
        traffic.Stop();
        return Stopwatch.GetElapsedTime(start);
    }

    /// <summary>
    /// The exact figures show a leak, but at ~1 sample per 100 KiB the diff would hold fewer samples than wanted:
    /// run enough extra iterations to reach them, as far as the time budget allows (at most 64 times the run).
    /// </summary>
    private static int ExtraIterationsForAttribution(IReadOnlyList<Checkpoint> points, int iterations, TimeSpan measuredTime, LeakOptions options)
    {
        var fit = GrowthFit.Of(points);
        var growth = points[^1].RetainedBytes - points[0].RetainedBytes;
        if (fit.Trend != GrowthTrend.Rising || growth <= 0 || options.AttributionBudget <= TimeSpan.Zero) return 0;
        var wantedBytes = options.MinAttributionSamples * SampleWeight.BytesPerSample * 1.25; // a margin for sampling luck
        if (growth >= wantedBytes) return 0;
        var wanted = (long)Math.Ceiling(iterations * (wantedBytes / growth - 1));
        var perIteration = measuredTime.TotalSeconds / iterations;
        var affordable = perIteration <= 0 ? wanted : (long)(options.AttributionBudget.TotalSeconds / perIteration);
        return (int)Math.Clamp(Math.Min(wanted, affordable), 0, Math.Min(64L * iterations, int.MaxValue - iterations));
    }

    private static ProfileSet? ReadProfiles(string tracePath, string? asyncModule, DateTimeOffset baselineAt, DateTimeOffset endAt, out string? problem)
    {
        var result = TraceReader.Read(tracePath, asyncModule);
        problem = result.Problem;
        if (problem is not null) return null;
        return new ProfileSet(
            ProfileBuilder.Before(result.Allocations, baselineAt),
            ProfileBuilder.After(result.Allocations, endAt),
            ProfileBuilder.Diff(result.Allocations, endAt),
            result.TotalSamples,
            result.ForeignSamples);
    }

    private static void DeleteQuietly(DirectoryInfo directory)
    {
        try { directory.Delete(recursive: true); }
        catch (IOException) { /* a temp folder left behind must not fail the test; the OS cleans /tmp */ }
        catch (UnauthorizedAccessException) { /* likewise */ }
    }

    /// <summary>Exact allocation traffic of the measured iterations: this thread's counter for sync workloads, the process's for async.</summary>
    private sealed class TrafficMeter(bool processWide)
    {
        private long _total, _start;

        public string Scope => processWide ? "process-wide: other threads' allocations are included" : "this thread, exact";

        public void Start() => _start = Read();
        public void Stop() => _total += Read() - _start;
        public double PerIteration(int iterations) => (double)_total / iterations;

        private long Read() => processWide ? GC.GetTotalAllocatedBytes(precise: true) : GC.GetAllocatedBytesForCurrentThread();
    }
}

/// <summary>The three sampled profiles of one run and where their samples came from.</summary>
public sealed record ProfileSet(HeapProfile Before, HeapProfile After, HeapProfile Diff, int TotalSamples, int ForeignSamples);
