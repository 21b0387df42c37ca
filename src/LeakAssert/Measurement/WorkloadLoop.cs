using System.Runtime.CompilerServices;

namespace LeakAssert.Measurement;

/// <summary>
/// The frames that call the user's workload. The trace reader cuts every sampled stack at this class, so a profile
/// starts at the workload and not at the test runner; it must stay the only caller of the workload.
/// </summary>
internal static class WorkloadLoop
{
    internal const string IterationKey = "LeakAssert.Iteration";

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void RunSync(Action workload, int first, int count, string phase, Progress progress)
    {
        var i = first;
        try
        {
            for (; i < first + count; i++)
            {
                progress.Iteration = i + 1;
                Call(workload);
            }
        }
        catch (Exception ex)
        {
            Tag(ex, phase, i);
            throw;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public static async ValueTask RunAsync(Func<ValueTask> workload, int first, int count, string phase, Progress progress, CancellationToken cancellation)
    {
        var i = first;
        try
        {
            for (; i < first + count; i++)
            {
                progress.Iteration = i + 1;
                var iteration = Call(workload);
                // An iteration that has not finished is awaited only until the run's guard gives up on it (a timeout
                // or a cancellation); it may go on running, but the caller is not held. Finished ones cost nothing.
                if (iteration.IsCompleted || !cancellation.CanBeCanceled) await iteration.ConfigureAwait(false);
                else await iteration.AsTask().WaitAsync(cancellation).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            Tag(ex, phase, i);
            throw;
        }
    }

    // Tiered PGO devirtualizes a hot delegate call and inlines a small lambda into its caller; the workload's own
    // allocations would then carry the runner's frame as their leaf and be cut away. An unoptimized trampoline keeps
    // the call indirect, so the workload always has a frame of its own.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.NoOptimization)]
    private static void Call(Action workload) => workload();

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.NoOptimization)]
    private static ValueTask Call(Func<ValueTask> workload) => workload();

    // The exception itself surfaces unchanged (type, message, stack); where it happened rides along in Data.
    private static void Tag(Exception ex, string phase, int index)
    {
        if (!ex.Data.Contains(IterationKey)) ex.Data[IterationKey] = $"{phase} iteration {index + 1}";
    }
}
