using System.Diagnostics.Tracing;

namespace LeakAssert.Sampling;

/// <summary>
/// Marks the baseline and final snapshots inside the trace, right after their forced GCs, so the replay knows
/// which sampled objects were alive at exactly those points.
/// </summary>
[EventSource(Name = ProviderName)]
internal sealed class CheckpointEvents : EventSource
{
    public const string ProviderName = "LeakAssert-Checkpoints";
    public static readonly CheckpointEvents Log = new();

    [Event(1, Level = EventLevel.Informational)]
    public void Snapshot(int index) => WriteEvent(1, index);
}
