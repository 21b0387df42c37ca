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

    // Set inside a measurement (it flows into async workloads): a workload that profiles would wait on itself.
    private static readonly AsyncLocal<bool> Measuring = new();

    public static async ValueTask<LeakProfile> RunAsync(Workload workload, int? iterations, LeakOptions options)
    {
        if (Measuring.Value)
            throw new InvalidOperationException("Leak.Profile was called from inside a workload that Leak.Profile is measuring; profile the inner workload on its own instead.");
        await OneAtATime.WaitAsync().ConfigureAwait(false);
        try
        {
            Measuring.Value = true;
            return await MeasureAsync(workload, iterations, options).ConfigureAwait(false);
        }
        finally
        {
            Measuring.Value = false;
            OneAtATime.Release();
        }
    }

    private static async ValueTask<LeakProfile> MeasureAsync(Workload workload, int? requestedIterations, LeakOptions options)
    {
        var clock = Stopwatch.StartNew();
        int iterations = 0, warmup = 0;
        var directory = Directory.CreateTempSubdirectory("leakassert-");
        var mode = options.Sampling;
        EventPipeRecorder? recorder = null;
        string? samplingProblem = mode == SamplingMode.Off ? "sampling was turned off (SamplingMode.Off)" : null;
        // Sized up front: a list that grows inside the window would add its own bytes to the checkpoints.
        var checkpoints = new List<Checkpoint>(options.Checkpoints + 1);
        var attribution = new List<Checkpoint>(AttributionSegments + 1);
        var traffic = new TrafficMeter(workload.IsAsync);
        var measuredTime = TimeSpan.Zero;
        var profiledFrom = 0;
        DateTimeOffset profileStart = default, profileEnd = default;
        try
        {
            using (ForcedGc.NoBackgroundGc())
            {
                if (mode == SamplingMode.Always) recorder = StartRecorder(directory, options, ref samplingProblem);
                try
                {
                    // 1. Warmup: JIT tiering and one-time caches settle; without a count, it also times the workload.
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

                    // 2. The measured iterations, an exact retained size after each segment. The verdict uses only these.
                    checkpoints.Add(Snapshot(0, 0, ForcedGc.SettledRetainedBytes()));
                    profileStart = DateTimeOffset.UtcNow;
                    var done = 0;
                    var segments = Math.Min(options.Checkpoints, iterations);
                    for (var k = 1; k <= segments; k++)
                    {
                        var upTo = (int)((long)iterations * k / segments);
                        measuredTime += await Timed(traffic, () => workload.Run(done, upTo - done, "measured")).ConfigureAwait(false);
                        done = upTo;
                        checkpoints.Add(Snapshot(k, done));
                    }

                    // 3. Attribution: with SamplingMode.WhenGrowing the session starts only now, and only for growth
                    // that is still rising, so runs that pass never pay for it (it doubles the cost of an allocation).
                    var fit = GrowthFit.Of(checkpoints);
                    // Rising growth is run again (the repeat pass), with the sampling session when there is one: a
                    // leak repeats, while growth from something else in the process (a test host's background
                    // work) does not, and the verdict checks that (Verdict.PerIteration).
                    var repeat = fit.Trend == GrowthTrend.Rising && mode != SamplingMode.Always;
                    if (mode == SamplingMode.WhenGrowing)
                    {
                        if (repeat)
                        {
                            recorder = StartRecorder(directory, options, ref samplingProblem);
                            if (recorder is not null)
                            {
                                profiledFrom = iterations;
                                profileStart = DateTimeOffset.UtcNow;
                            }
                        }
                        else
                        {
                            samplingProblem = fit.Trend == GrowthTrend.Plateau
                                ? "the growth levelled off and a second pass would not repeat it, so no sampled pass ran (SamplingMode.Always profiles the measured iterations themselves)"
                                : "the exact figures show no growth to attribute, so no sampled pass ran (SamplingMode.Always profiles every run)";
                        }
                    }
                    // The pass's own baseline, after the session started: what starting it retained belongs to
                    // neither the workload's growth nor its profile.
                    if (repeat) attribution.Add(Snapshot(checkpoints.Count, iterations));

                    var extra = recorder is not null ? AttributionIterations(fit, iterations, profiledFrom > 0, measuredTime, options)
                        : repeat ? iterations
                        : 0;
                    var extraSegments = Math.Min(AttributionSegments, extra);
                    for (var k = 1; k <= extraSegments; k++)
                    {
                        var upTo = iterations + (int)((long)extra * k / extraSegments);
                        await workload.Run(done, upTo - done, "attribution").ConfigureAwait(false);
                        done = upTo;
                        attribution.Add(Snapshot(checkpoints.Count + attribution.Count + 1, done));
                    }
                    profileEnd = DateTimeOffset.UtcNow;
                }
                finally
                {
                    // Stopped here, inside the no-background-GC window, also when the workload threw.
                    if (recorder is not null && !recorder.TryStop(out var stopFailure)) samplingProblem = stopFailure;
                }
            }

            // 4. Profiles from the trace, once the run is over.
            var profiles = recorder is not null && samplingProblem is null
                ? ReadProfiles(recorder.TracePath, workload.IsAsync ? workload.Module : null, profileStart, profileEnd, out samplingProblem)
                : null;
            return new LeakProfile(iterations, warmup, requestedIterations is null ? options.TimeBudget : null, checkpoints, attribution,
                profiledFrom, traffic.PerIteration(iterations), traffic.Scope, profiles, samplingProblem, options.MinAttributionSamples,
                clock.Elapsed, measuredTime);
        }
        finally
        {
            recorder?.Dispose();
            DeleteQuietly(directory);
        }
    }

    private const int AttributionSegments = 4;

    private static EventPipeRecorder? StartRecorder(DirectoryInfo directory, LeakOptions options, ref string? problem)
    {
        var recorder = EventPipeRecorder.TryStart(directory.FullName, options.SessionBufferMB, out var failure);
        if (recorder is null) problem = failure;
        return recorder;
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

    private static Checkpoint Snapshot(int index, int iteration) => Snapshot(index, iteration, ForcedGc.RetainedBytes());

    private static Checkpoint Snapshot(int index, int iteration, long retained)
    {
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
    /// Iterations to run under the session so that the rising growth leaves enough samples (~1 per 100 KiB) to name
    /// its sites. A separate attribution pass gets up to as many iterations as were measured for free, and more
    /// within the attribution budget; when the session already covered the measured iterations, only what is still
    /// missing is run, within the budget. At most 64 times the measured run.
    /// </summary>
    private static int AttributionIterations(GrowthFit fit, int iterations, bool separatePass, TimeSpan measuredTime, LeakOptions options)
    {
        if (fit.Trend != GrowthTrend.Rising || fit.SlopeBytesPerIteration <= 0) return 0;
        var wantedBytes = options.MinAttributionSamples * SampleWeight.BytesPerSample * 1.25; // a margin for sampling luck
        var wanted = (long)Math.Ceiling(wantedBytes / fit.SlopeBytesPerIteration);
        var free = separatePass ? Math.Min(wanted, iterations) : 0;
        if (!separatePass) wanted = Math.Max(0, wanted - iterations);
        var perIteration = measuredTime.TotalSeconds / iterations;
        var affordable = perIteration <= 0 ? wanted : (long)(options.AttributionBudget.TotalSeconds / perIteration);
        var extra = Math.Max(free, Math.Min(wanted, free + affordable));
        return (int)Math.Clamp(extra, separatePass ? 1 : 0, Math.Min(64L * iterations, int.MaxValue - iterations));
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
