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

    private int _measured;

    /// <summary>
    /// True once the test's flow called Leak.Profile or ProfileAsync, or ran a leak assertion. A [LeakTest] whose body
    /// did neither measured nothing, and would pass whatever the body leaks. A field of the recorder, not an AsyncLocal of
    /// its own: a value set in an AsyncLocal by an awaited call or a task does not flow back to the test; the recorder
    /// they share is the same object.
    /// </summary>
    public bool Measured => Volatile.Read(ref _measured) != 0;

    /// <summary>Notes on the running leak test's recorder, if any, that a measurement or a leak assertion ran.</summary>
    public static void NoteMeasurement()
    {
        if (current.Value is { } recorder) Volatile.Write(ref recorder._measured, 1);
    }

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
