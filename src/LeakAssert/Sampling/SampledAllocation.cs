using LeakAssert.Profiles;

namespace LeakAssert.Sampling;

/// <summary>
/// One allocation the runtime sampled while the workload ran, its stack trimmed to start at the workload (whole for
/// another thread's), and whether it was alive at the baseline checkpoint and at the last one.
/// </summary>
internal sealed record SampledAllocation(
    IReadOnlyList<Frame> Stack,
    string TypeName,
    long Size,
    bool AllocatedBeforeBaseline,
    bool AliveAtBaseline,
    bool AliveAtEnd);

/// <summary>
/// What reading the trace gave: the workload's samples (<paramref name="LinkedSamples"/> of them found through a task
/// or thread it started), other threads' samples with their whole stacks, or why there is no trustworthy profile.
/// </summary>
internal sealed record SamplingResult(
    IReadOnlyList<SampledAllocation> Allocations,
    IReadOnlyList<SampledAllocation> OtherThreads,
    int TotalSamples,
    int ForeignSamples,
    int LinkedSamples,
    string? Problem);
