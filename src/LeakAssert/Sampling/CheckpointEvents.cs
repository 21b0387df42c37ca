using System.Diagnostics.Tracing;

namespace LeakAssert.Sampling;

/// <summary>
/// Marks each checkpoint inside the trace, right after its forced GC, so the replay knows which sampled objects
/// were alive at exactly those points.
/// </summary>
[EventSource(Name = ProviderName)]
internal sealed class CheckpointEvents : EventSource
{
    public const string ProviderName = "LeakAssert-Checkpoints";
    public static readonly CheckpointEvents Log = new();

    [Event(1, Level = EventLevel.Informational)]
    public void Checkpoint(int index) => WriteEvent(1, index);
}
