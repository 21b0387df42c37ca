namespace LeakAssert.Verdicts;

/// <summary>
/// What happens to a failed verdict beyond its message: a test adapter makes one current around a leak test (its
/// artifacts folder, its attachments), and whoever decides a verdict hands failures to it. The decision stays with
/// the assertion; the evidence is kept by the adapter's side, and no layer below it needs to know how.
/// </summary>
internal abstract class FailureRecorder
{
    private static readonly AsyncLocal<FailureRecorder?> current = new();

    /// <summary>The recorder of the running leak test, or null outside one. An AsyncLocal: it flows into the test's awaits.</summary>
    public static FailureRecorder? Current => current.Value;

    /// <summary>Keeps the evidence of a failed verdict; returns the lines the failure message ends with ("" for none). Never throws for I/O.</summary>
    public abstract string Record(LeakProfile profile, Verdict verdict);

    /// <summary>Makes <paramref name="recorder"/> current until the returned scope is disposed.</summary>
    public static IDisposable Enter(FailureRecorder recorder)
    {
        var previous = current.Value;
        current.Value = recorder;
        // Adapters make a recorder current only around a test they run alone.
        var isolated = Measurement.Isolation.Enter();
        return new Scope(() =>
        {
            isolated.Dispose();
            current.Value = previous;
        });
    }

    private sealed class Scope(Action exit) : IDisposable
    {
        public void Dispose() => exit();
    }
}
