using System.Diagnostics;
using LeakAssert.Profiles;
using LeakAssert.Sampling;
using LeakAssert.Snapshots;

namespace LeakAssert.Measurement;

/// <summary>
/// Runs a workload and measures it in two named steps: the measured pass (warmup, a baseline checkpoint, N
/// iterations in segments with an exact retained size after each) and the repeat pass (run again when growth is
/// rising, under the sampling session when there is one), then reads the profiles. Data flows one way: run,
/// measure and sample, profile; the report and the assertions only read the result.
/// </summary>
internal static class Runner
{
    // Set inside a measurement (it flows into async workloads): a workload that profiles would wait on itself.
    private static readonly AsyncLocal<bool> Measuring = new();

    // The test framework's own cancellation for the calls of one test (NUnit's [CancelAfter]), set by its adapter.
    private static readonly AsyncLocal<CancellationToken> FrameworkCancellation = new();

    /// <summary>Makes <paramref name="token"/> cancel every measurement started in this flow until disposed.</summary>
    public static IDisposable CancelWith(CancellationToken token)
    {
        var previous = FrameworkCancellation.Value;
        FrameworkCancellation.Value = token;
        return new Restore(() => FrameworkCancellation.Value = previous);
    }

    /// <summary>
    /// Measures a sync workload on the caller's thread, from the wait for the lock to the last iteration: state the
    /// caller keeps in a [ThreadStatic] field is the workload's too, as in a plain loop.
    /// </summary>
    public static LeakProfile Run(Workload workload, int? iterations, LeakOptions options, CancellationToken cancellation = default)
    {
        RefuseNested();
        using var linked = Link(cancellation, out var token);
        using var ticket = MeasurementLock.Enter(options.RunTimeout, token, workload.Progress);
        Measuring.Value = true;
        try
        {
            // A sync workload never yields: the whole run completes here, on this thread.
            var run = MeasureAsync(workload, iterations, options, ticket, token);
            return run.IsCompleted ? run.Result : run.AsTask().GetAwaiter().GetResult();
        }
        finally
        {
            Measuring.Value = false;
        }
    }

    /// <summary>Measures an async workload; its iterations are awaited one after another.</summary>
    public static async ValueTask<LeakProfile> RunAsync(Workload workload, int? iterations, LeakOptions options, CancellationToken cancellation = default)
    {
        RefuseNested();
        using var linked = Link(cancellation, out var token);
        using var ticket = await MeasurementLock.EnterAsync(options.RunTimeout, token, workload.Progress).ConfigureAwait(false);
        Measuring.Value = true;
        return await MeasureAsync(workload, iterations, options, ticket, token).ConfigureAwait(false);
    }

    private static void RefuseNested()
    {
        if (Measuring.Value)
            throw new InvalidOperationException("Leak.Profile was called from inside a workload that Leak.Profile is measuring; profile the inner workload on its own instead.");
    }

    // The caller's token and the framework's, as one.
    private static CancellationTokenSource? Link(CancellationToken caller, out CancellationToken token)
    {
        var framework = FrameworkCancellation.Value;
        if (!framework.CanBeCanceled || framework == caller)
        {
            token = caller;
            return null;
        }
        if (!caller.CanBeCanceled)
        {
            token = framework;
            return null;
        }
        var linked = CancellationTokenSource.CreateLinkedTokenSource(caller, framework);
        token = linked.Token;
        return linked;
    }

    private static async ValueTask<LeakProfile> MeasureAsync(Workload workload, int? requestedIterations, LeakOptions options, IDisposable ticket,
        CancellationToken cancellation)
    {
        using var guard = new RunGuard(options.RunTimeout, cancellation, workload.Progress);
        guard.OnGiveUp(ticket.Dispose);
        workload.Cancellation = guard.GiveUp;
        // A sync workload runs on this thread: one blocked in a wait is interrupted when the guard gives up.
        guard.InterruptCallerWhileRunning(!workload.IsAsync);
        LeakProfile profile;
        try
        {
            profile = await MeasureGuardedAsync(workload, requestedIterations, options, guard).ConfigureAwait(false);
        }
        catch (Exception e) when (guard.HasFired)
        {
            throw guard.Failure(e);
        }
        if (!guard.TryComplete()) throw guard.Failure(null);
        return profile;
    }

    private static async ValueTask<LeakProfile> MeasureGuardedAsync(Workload workload, int? requestedIterations, LeakOptions options, RunGuard guard)
    {
        var clock = Stopwatch.StartNew();
        using var sampling = new SamplingSession(options.SessionBufferMB);
        guard.OnGiveUp(sampling.Dispose);
        if (options.Sampling == SamplingMode.Off) sampling.Skip("sampling was turned off (SamplingMode.Off)");
        MeasuredPass measured;
        RepeatPass repeat;
        using var snapshots = new RunSnapshots(options);
        using (var latency = ForcedGc.NoBackgroundGc())
        {
            guard.OnGiveUp(latency.Dispose);
            try
            {
                if (options.Sampling == SamplingMode.Always)
                {
                    // A background GC still under way would break the session's liveness replay: a blocking one waits for it.
                    ForcedGc.Collect();
                    sampling.TryStart();
                }
                measured = await RunMeasuredPass(workload, requestedIterations, options, snapshots, sampling.IsRecording).ConfigureAwait(false);
                repeat = await RunRepeatPass(workload, measured, options, sampling, snapshots).ConfigureAwait(false);
            }
            finally
            {
                // Stopped here, inside the no-background-GC window, also when the workload threw.
                sampling.Stop();
            }
        }
        // The snapshot after the repeat pass, once the sampling session has stopped: its own garbage is in no profile.
        snapshots.AfterRepeatPass(repeat.Checkpoints is [var first, .., var last] ? last.Iteration - first.Iteration : 0);

        // Profiles from the trace, once the run is over.
        var trim = new StackTrim(typeof(WorkloadLoop).Namespace + ".", workload.IsAsync ? workload.Module : null);
        var profiles = sampling.ReadProfiles(trim, repeat.ProfileStart ?? measured.BaselineAt, repeat.ProfileEnd);
        return new LeakProfile(new MeasuredRun
        {
            Iterations = measured.Iterations,
            Warmup = measured.Warmup,
            TimeBudget = requestedIterations is null ? options.TimeBudget : null,
            Checkpoints = measured.Checkpoints,
            RepeatCheckpoints = repeat.Checkpoints,
            ProfiledFromIteration = repeat.ProfileStart is null ? 0 : measured.Iterations,
            AllocatedBytesPerIteration = measured.AllocatedBytesPerIteration,
            TrafficScope = measured.TrafficScope,
            OtherThreadsAllocatedBytes = measured.OtherThreadsAllocatedBytes,
            Isolated = Isolation.IsIsolated,
            Profiles = profiles,
            SamplingProblem = sampling.Problem,
            MinAttributionSamples = options.MinAttributionSamples,
            Heap = snapshots.Diff,
            HeapSnapshotProblem = snapshots.Problem,
            Elapsed = clock.Elapsed,
            MeasuredTime = measured.Time,
            OutsideHeap = measured.OutsideHeap,
            OutsideHeapProblem = measured.OutsideHeapProblem,
        });
    }

    /// <summary>The measured pass: its checkpoints are all the verdict reads.</summary>
    private sealed record MeasuredPass(int Iterations, int Warmup, List<Checkpoint> Checkpoints, DateTimeOffset BaselineAt, TimeSpan Time,
        double AllocatedBytesPerIteration, string TrafficScope, long? OtherThreadsAllocatedBytes, OutsideHeap? OutsideHeap, string? OutsideHeapProblem)
    {
        public GrowthFit Growth { get; } = GrowthFit.Of(Checkpoints);
    }

    /// <summary>The repeat pass: its checkpoints, and the span of the sampled profile when it started the session.</summary>
    private sealed record RepeatPass(List<Checkpoint> Checkpoints, DateTimeOffset? ProfileStart, DateTimeOffset ProfileEnd);

    /// <summary>Warmup (or calibration), a settled baseline, then the iterations in segments, an exact retained size after each.</summary>
    private static async ValueTask<MeasuredPass> RunMeasuredPass(Workload workload, int? requestedIterations, LeakOptions options, RunSnapshots snapshots,
        bool recording)
    {
        int iterations, warmup;
        // JIT tiering and one-time caches settle; without a count, the warmup also times the workload.
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

        if (options.HeapSnapshots == HeapSnapshotMode.Always) snapshots.Before(0);
        // Allocated before the baseline, and sized up front: an object made or grown inside the window would add its
        // own bytes to the checkpoints.
        var traffic = new TrafficMeter(workload.IsAsync);
        var outside = OutsideHeapRecorder.Start(options.Checkpoints + 1);
        var checkpoints = new List<Checkpoint>(options.Checkpoints + 1);
        var baseline = ForcedGc.SettledRetainedBytes(recording, readOnceFrom: LargeHeapBytes);
        // Slack the GC would decommit inside the window reads as native growth; what it returned was not alive, but the
        // collection that returned it is the baseline's reading now.
        if (ForcedGc.ReturnFreeMemory(limit: OutsideHeap.NativeNoiseFloorBytes)) baseline = ForcedGc.RetainedBytes(recording);
        checkpoints.Add(Checkpoint(0, 0, baseline));
        outside.Record(0);
        var baselineAt = DateTimeOffset.UtcNow;
        var time = TimeSpan.Zero;
        var done = 0;
        var segments = Math.Min(CheckpointsFor(baseline, options), iterations);
        for (var k = 1; k <= segments; k++)
        {
            var upTo = (int)((long)iterations * k / segments);
            time += await Timed(traffic, workload, done, upTo - done).ConfigureAwait(false);
            done = upTo;
            checkpoints.Add(Checkpoint(k, done, recording));
            outside.Record(done);
        }
        var outsideHeap = outside.Finish();
        if (options.HeapSnapshots == HeapSnapshotMode.Always) snapshots.After(iterations, "the measured iterations");
        return new MeasuredPass(iterations, warmup, checkpoints, baselineAt, time, traffic.PerIteration(iterations), traffic.Scope, traffic.OtherThreads, outsideHeap, outside.Problem);
    }

    /// <summary>
    /// Rising growth is run again: a leak repeats, while growth from something else in the process (a test host's
    /// background work) does not, and the verdict checks that (Verdict.PerIteration). With SamplingMode.WhenGrowing
    /// the session starts only now, so runs that pass never pay for it (it doubles the cost of an allocation); with
    /// Always, the session already covers the measured pass and only the samples still missing are run for.
    /// </summary>
    private static async ValueTask<RepeatPass> RunRepeatPass(Workload workload, MeasuredPass measured, LeakOptions options, SamplingSession sampling,
        RunSnapshots snapshots)
    {
        var fit = measured.Growth;
        var iterations = measured.Iterations;
        var separate = fit.Trend == GrowthTrend.Rising && options.Sampling != SamplingMode.Always;
        // What leaks by type: the heap before the pass, taken before the session starts and the pass's baseline.
        if (separate && options.HeapSnapshots == HeapSnapshotMode.WhenGrowing) snapshots.Before(iterations);
        else if (options.HeapSnapshots == HeapSnapshotMode.WhenGrowing) snapshots.Skip(fit.Trend);
        DateTimeOffset? profileStart = null;
        if (options.Sampling == SamplingMode.WhenGrowing)
        {
            if (separate)
            {
                if (sampling.TryStart()) profileStart = DateTimeOffset.UtcNow;
            }
            else
            {
                sampling.Skip(measured.Checkpoints.Count < GrowthFit.MinCheckpointsForTrend
                    ? "the run had too few checkpoints to tell growth from noise, so no sampled pass ran"
                    : fit.Trend == GrowthTrend.Plateau
                    ? "the growth levelled off and a second pass would not repeat it, so no sampled pass ran (SamplingMode.Always profiles the measured iterations themselves)"
                    : "the exact figures show no growth to attribute, so no sampled pass ran (SamplingMode.Always profiles every run)");
            }
        }
        var checkpoints = new List<Checkpoint>(RepeatSegments + 1);
        var index = measured.Checkpoints.Count;
        // The pass's own baseline, after the session started: what starting it retained belongs to neither the
        // workload's growth nor its profile.
        if (separate) checkpoints.Add(Checkpoint(index++, iterations, sampling.IsRecording));

        var extra = RepeatIterations(fit, iterations, separate, sampling.IsRecording, measured.Time, options);
        // A leak of threads, handles or assemblies grows with every iteration run, towards the process's limits: the
        // repeat pass at most doubles it (its heap samples may then be fewer, and the report says so).
        if (measured.OutsideHeap is not { CountsRise: false }) extra = Math.Min(extra, iterations);
        var done = iterations;
        var clock = Stopwatch.StartNew();
        var segments = Math.Min(RepeatSegments, extra);
        // What the middle snapshot itself leaves alive (its session's objects), read right after it and taken off the
        // checkpoints that follow: the pass's growth is the workload's alone.
        long middleBytes = 0;
        for (var k = 1; k <= segments; k++)
        {
            var upTo = iterations + (int)((long)extra * k / segments);
            await workload.Run(done, upTo - done, "repeat pass").ConfigureAwait(false);
            done = upTo;
            checkpoints.Add(Checkpoint(index++, done, ForcedGc.RetainedBytes(sampling.IsRecording) - middleBytes));
            // Halfway, after the checkpoint has read the heap: which gained objects were there by then says whether the
            // growth is steady (a leak) or came once (a cache filled, metadata built).
            if (k == segments / 2 && k < segments && snapshots.Middle(done))
                middleBytes = ForcedGc.RetainedBytes(sampling.IsRecording) - checkpoints[^1].RetainedBytes;
        }
        if (segments > 0 && measured.OutsideHeap is { CountsRise: false })
            done = await RunWhileFlat(workload, measured, options, checkpoints, separate, done, clock, middleBytes, sampling.IsRecording).ConfigureAwait(false);
        return new RepeatPass(checkpoints, profileStart, DateTimeOffset.UtcNow);
    }

    private const int RepeatSegments = 4;

    /// <summary>
    /// A repeat pass that ends flat, but not for long enough to rule out a leak whose container still has room
    /// (<see cref="LevelOff"/>), runs on in one more segment as long as that needs, within the attribution budget (at
    /// least the measured pass's time): a cache that filled and stopped stays flat and passes, a leak grows again.
    /// </summary>
    private static async ValueTask<int> RunWhileFlat(Workload workload, MeasuredPass measured, LeakOptions options, List<Checkpoint> checkpoints,
        bool separate, int done, Stopwatch clock, long middleBytes, bool recording)
    {
        var iterations = measured.Iterations;
        var lowerBound = measured.Growth.SlopeLowerBound99;
        for (var more = 0; more < MaxFlatExtensions; more++)
        {
            IReadOnlyList<Checkpoint> series = separate ? checkpoints : [measured.Checkpoints[^1], .. checkpoints];
            if (LevelOff.Of(measured.Checkpoints, series) is not { } flat || flat.Refutes(lowerBound, 0)) break;
            var wanted = flat.IterationsToRefute(lowerBound) - flat.FlatIterations;
            wanted += wanted / 8 + 1; // a margin, so that one segment settles it
            var secondsPerIteration = clock.Elapsed.TotalSeconds / Math.Max(1, done - iterations);
            var seconds = Math.Max(options.AttributionBudget.TotalSeconds - clock.Elapsed.TotalSeconds, measured.Time.TotalSeconds);
            if (wanted > 64L * iterations - (done - iterations) || wanted > int.MaxValue - done || wanted * secondsPerIteration > seconds) break;
            await workload.Run(done, (int)wanted, "repeat pass").ConfigureAwait(false);
            done += (int)wanted;
            checkpoints.Add(Checkpoint(checkpoints.Count + measured.Checkpoints.Count, done, ForcedGc.RetainedBytes(recording) - middleBytes));
        }
        return done;
    }

    private const int MaxFlatExtensions = 2;

    /// <summary>
    /// The run's heap snapshots: taken around the measured iterations (Always) or the repeat pass (WhenGrowing), the
    /// latter with one in its middle too (in the measured pass its native address set would count as native growth).
    /// </summary>
    private sealed class RunSnapshots(LeakOptions options) : IDisposable
    {
        private SnapshotPair? _pair;
        private bool _repeatPass;

        public HeapDiff? Diff { get; private set; }

        public string? Problem { get; private set; } = options.HeapSnapshots == HeapSnapshotMode.Off ? "heap snapshots were turned off (HeapSnapshotMode.Off)" : null;

        public void Before(int startIteration)
        {
            _repeatPass = startIteration > 0;
            (_pair, Problem) = SnapshotPair.Before(startIteration);
        }

        /// <summary>Takes the middle snapshot; false when none was taken.</summary>
        public bool Middle(int iteration) => _repeatPass && _pair is not null && _pair.Middle(iteration);

        public void Skip(GrowthTrend trend) => Problem ??= trend == GrowthTrend.Rising
            ? "the growth was rising but the repeat pass ran without a baseline of its own (SamplingMode.Always); HeapSnapshotMode.Always brackets the measured iterations"
            : "the exact figures show no rising growth, so no snapshots were taken (HeapSnapshotMode.Always takes them on every run)";

        public void After(int iterations, string pass)
        {
            if (_pair is null) return;
            (Diff, Problem) = _pair.After(iterations, pass, options);
            _pair.Dispose();
            _pair = null;
        }

        public void Dispose() => _pair?.Dispose();

        public void AfterRepeatPass(int iterations)
        {
            if (options.HeapSnapshots == HeapSnapshotMode.WhenGrowing) After(iterations, "the repeat pass");
        }
    }

    private sealed class Restore(Action exit) : IDisposable
    {
        public void Dispose() => exit();
    }

    /// <summary>
    /// Warmup that also times the workload: batches of 1, 2, 4, ... until a tenth of the budget has passed (or the
    /// given warmup count ran), then as many iterations as fill the budget, fewer if the warmup's retained growth
    /// says the run would hold more than 256 MB, or its threads, handles and assemblies that it would add more than
    /// 1,024 of them (a thread started per call would otherwise make tens of thousands in 2 s, towards the OS's limits).
    /// </summary>
    private static async ValueTask<(int Iterations, int Warmup)> Calibrate(Workload workload, LeakOptions options)
    {
        const long MaxRetainedBytes = 256L << 20;
        const int MaxResources = 1_024;
        var before = ForcedGc.RetainedBytes();
        var resourcesBefore = ProcessCounters.Resources();
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
        var resourcesPerIteration = (double)Math.Max(0, ProcessCounters.Resources() - resourcesBefore) / done;
        var byResources = resourcesPerIteration > 0 ? MaxResources / resourcesPerIteration : double.MaxValue;
        var iterations = (int)Math.Clamp(Math.Min(byTime, Math.Min(byMemory, byResources)), LeakOptions.MinBudgetIterations, 10_000_000);
        return (iterations, done);
    }

    /// <summary>
    /// The measured pass's checkpoints: <see cref="LeakOptions.Checkpoints"/>, and at most <see cref="LargeHeapCheckpoints"/>
    /// when the baseline holds <see cref="LargeHeapBytes"/> or more. Every checkpoint is a full collection that marks
    /// the whole heap (about 11 ms for 100 MB of small objects, 180 ms for 1.5 GB); six still give the growth fit a
    /// line over the whole run and one over its last four points (BENCHMARKS.md measures the detection power both ways).
    /// Such a heap's baseline is also read once (after a wait), not settled.
    /// </summary>
    internal static int CheckpointsFor(long baselineBytes, LeakOptions options) =>
        baselineBytes >= LargeHeapBytes ? Math.Min(options.Checkpoints, LargeHeapCheckpoints) : options.Checkpoints;

    internal const long LargeHeapBytes = 64L << 20;
    internal const int LargeHeapCheckpoints = 6;

    // While a session records, checkpoints compact, as the liveness replay of sampled objects was verified with (RUNTIME-FACTS 3).
    private static Checkpoint Checkpoint(int index, int iteration, bool compacting) => Checkpoint(index, iteration, ForcedGc.RetainedBytes(compacting));

    // The event marks the checkpoint in the trace too, right after its forced GC, when a session records.
    private static Checkpoint Checkpoint(int index, int iteration, long retained)
    {
        CheckpointEvents.Log.Checkpoint(index);
        return new Checkpoint(iteration, retained);
    }

    // No closure over the segment: one made inside the window is still alive at the checkpoint that follows it.
    private static async ValueTask<TimeSpan> Timed(TrafficMeter traffic, Workload workload, int first, int count)
    {
        var start = Stopwatch.GetTimestamp();
        traffic.Start();
        await workload.Run(first, count, "measured").ConfigureAwait(false);
        traffic.Stop();
        return Stopwatch.GetElapsedTime(start);
    }

    /// <summary>
    /// Iterations to run under the session so that the rising growth leaves enough samples (~1 per 100 KiB) to name
    /// its sites. A separate attribution pass gets up to as many iterations as were measured for free, and more
    /// within the attribution budget; when the session already covered the measured iterations, only what is still
    /// missing is run, within the budget. At most 64 times the measured run.
    /// </summary>
    internal static int RepeatIterations(GrowthFit fit, int iterations, bool separatePass, bool recording, TimeSpan measuredTime, LeakOptions options)
    {
        if (fit.Trend != GrowthTrend.Rising || fit.SlopeBytesPerIteration <= 0) return 0;
        var wanted = 0L;
        if (recording)
        {
            var wantedBytes = options.MinAttributionSamples * SampleWeight.BytesPerSample * 1.25; // a margin for sampling luck
            wanted = (long)Math.Ceiling(wantedBytes / fit.SlopeBytesPerIteration);
            if (!separatePass) wanted = Math.Max(0, wanted - iterations);
        }
        // Long enough for the verdict's repeat-pass rule to tell a one-off step from a leak: over it, a leak at the
        // measured lower-bound slope retains four times the noise floor (Verdict.NotRepeated).
        if (separatePass)
            wanted = Math.Max(wanted, (long)Math.Ceiling(4.0 * GrowthFit.NoiseFloorBytes / Math.Max(fit.SlopeLowerBound99, 1e-3)));
        var free = !separatePass ? 0 : recording ? Math.Min(wanted, iterations) : iterations;
        var perIteration = measuredTime.TotalSeconds / iterations;
        var affordable = perIteration <= 0 ? wanted : (long)Math.Min(long.MaxValue / 2, options.AttributionBudget.TotalSeconds / perIteration);
        var extra = Math.Max(free, Math.Min(wanted, free + affordable));
        return (int)Math.Clamp(extra, separatePass ? 1 : 0, Math.Min(64L * iterations, int.MaxValue - iterations));
    }

    /// <summary>Exact allocation traffic of the measured iterations: this thread's counter for sync workloads, the process's for async.</summary>
    /// <remarks>
    /// For a sync workload the process's counter is read too: what other threads allocated meanwhile says whether
    /// something ran beside the measurement.
    /// </remarks>
    private sealed class TrafficMeter(bool processWide)
    {
        private long _total, _start, _process, _processStart;

        public string Scope => processWide ? "process-wide: other threads' allocations are included" : "this thread, exact";

        public void Start()
        {
            _processStart = GC.GetTotalAllocatedBytes(precise: false);
            _start = Read();
        }

        public void Stop()
        {
            _total += Read() - _start;
            _process += GC.GetTotalAllocatedBytes(precise: false) - _processStart;
        }

        public double PerIteration(int iterations) => (double)_total / iterations;

        /// <summary>Bytes other threads allocated during the measured iterations; null for an async workload, whose own continuations run on them.</summary>
        public long? OtherThreads => processWide ? null : Math.Max(0, _process - _total);

        private long Read() => processWide ? GC.GetTotalAllocatedBytes(precise: true) : GC.GetAllocatedBytesForCurrentThread();
    }
}
