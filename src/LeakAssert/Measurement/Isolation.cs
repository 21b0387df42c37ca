namespace LeakAssert.Measurement;

/// <summary>
/// Whether the running flow is a test that its adapter runs alone (a [LeakTest]): outside one, other tests may run
/// beside the measurement, and what they keep on the process-wide heap counts as the workload's.
/// </summary>
internal static class Isolation
{
    private static readonly AsyncLocal<bool> Isolated = new();

    /// <summary>True inside a test its adapter runs alone.</summary>
    public static bool IsIsolated => Isolated.Value;

    /// <summary>Marks this flow as isolated until disposed.</summary>
    public static IDisposable Enter()
    {
        var previous = Isolated.Value;
        Isolated.Value = true;
        return new Exit(() => Isolated.Value = previous);
    }

    private sealed class Exit(Action exit) : IDisposable
    {
        public void Dispose() => exit();
    }
}
