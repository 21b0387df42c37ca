using FluentAssertions;
using FluentAssertions.Execution;
using FluentAssertions.Formatting;
using FluentAssertions.Primitives;
using LeakAssert.Measurement;
using LeakAssert.Reporting;
using LeakAssert.Verdicts;

namespace LeakAssert.Assertions;

/// <summary>FluentAssertions for a <see cref="LeakProfile"/>: <c>profile.Should().NotRetainMoreThan(1.MB())</c>.</summary>
public sealed class LeakProfileAssertions : ReferenceTypeAssertions<LeakProfile, LeakProfileAssertions>
{
    static LeakProfileAssertions() => Formatter.AddFormatter(new ReportFormatter());

    internal LeakProfileAssertions(LeakProfile subject) : base(subject) { }

    /// <inheritdoc />
    protected override string Identifier => "profile";

    /// <summary>
    /// Asserts that the exact retained growth over the measured iterations is at most <paramref name="bound"/>, and,
    /// as every leak assertion does, that assemblies, threads, handles and native memory do not rise steadily.
    /// </summary>
    public AndConstraint<LeakProfileAssertions> NotRetainMoreThan(ByteSize bound, string because = "", params object[] becauseArgs)
    {
        if (bound.Bytes < 0)
            throw new ArgumentOutOfRangeException(nameof(bound), $"The bound must be zero or more bytes, but was {bound.Bytes} bytes.");
        return Check(p => LeakVerdict.Decide(p, bound, null), because, becauseArgs);
    }

    /// <summary>
    /// Asserts that retained growth per iteration is at most <paramref name="bound"/> (<c>64.Bytes().PerIteration()</c>):
    /// fails only while growth is still rising above it, so a cache that fills and levels off passes. As every leak
    /// assertion does, it also fails when assemblies, threads, handles or native memory rise steadily.
    /// </summary>
    public AndConstraint<LeakProfileAssertions> NotRetainMoreThan(PerIterationBound bound, string because = "", params object[] becauseArgs)
    {
        if (bound.Size.Bytes < 0)
            throw new ArgumentOutOfRangeException(nameof(bound), $"The bound must be zero or more bytes per iteration, but was {bound.Size.Bytes} bytes.");
        return Check(p => LeakVerdict.Decide(p, null, bound), because, becauseArgs);
    }

    /// <summary>
    /// Asserts that loaded assemblies and live assembly load contexts do not rise steadily, as an assembly generated
    /// per call or a collectible load context that is never unloaded makes them; the failure names the new assemblies.
    /// </summary>
    public AndConstraint<LeakProfileAssertions> NotLeakAssemblies(string because = "", params object[] becauseArgs) =>
        Check(p => OutsideHeapVerdicts.Assemblies(p), because, becauseArgs);

    /// <summary>
    /// Asserts that the process's threads, the thread pool's workers left out, do not rise steadily, as a thread
    /// started per call and never stopped makes them; the failure names the new threads (by OS name, on Linux).
    /// </summary>
    public AndConstraint<LeakProfileAssertions> NotLeakThreads(string because = "", params object[] becauseArgs) =>
        Check(p => OutsideHeapVerdicts.Threads(p), because, becauseArgs);

    /// <summary>Asserts that open handles (file descriptors on Linux) do not rise steadily, as a file opened per call and never closed makes them.</summary>
    public AndConstraint<LeakProfileAssertions> NotLeakHandles(string because = "", params object[] becauseArgs) =>
        Check(p => OutsideHeapVerdicts.Handles(p), because, becauseArgs);

    /// <summary>Asserts that native (non-GC) private memory grew by at most <paramref name="bound"/> from the baseline to the last measured iteration.</summary>
    public AndConstraint<LeakProfileAssertions> NotGrowNativeMemoryMoreThan(ByteSize bound, string because = "", params object[] becauseArgs)
    {
        if (bound.Bytes < 0)
            throw new ArgumentOutOfRangeException(nameof(bound), $"The bound must be zero or more bytes, but was {bound.Bytes} bytes.");
        return Check(p => OutsideHeapVerdicts.NativeTotal(p, bound), because, becauseArgs);
    }

    /// <summary>
    /// Asserts that native (non-GC) private memory does not keep growing by more than <paramref name="bound"/> per
    /// iteration: fails only when it rises steadily above it and beyond its noise floor
    /// (<see cref="OutsideHeap.NativeNoiseFloorBytes"/>), so the JIT's code and the allocator's arenas, which grow in
    /// steps, pass.
    /// </summary>
    public AndConstraint<LeakProfileAssertions> NotGrowNativeMemoryMoreThan(PerIterationBound bound, string because = "", params object[] becauseArgs)
    {
        if (bound.Size.Bytes < 0)
            throw new ArgumentOutOfRangeException(nameof(bound), $"The bound must be zero or more bytes per iteration, but was {bound.Size.Bytes} bytes.");
        return Check(p => OutsideHeapVerdicts.NativePerIteration(p, bound), because, becauseArgs);
    }

    /// <summary>
    /// Asserts that no instance of <typeparamref name="T"/> was gained between the heap snapshots (exact counts, from the
    /// heap graph). Needs snapshots: by default only rising runs take them; set
    /// <see cref="LeakOptions.HeapSnapshots"/> to <see cref="HeapSnapshotMode.Always"/> to decide on every run.
    /// </summary>
    public AndConstraint<LeakProfileAssertions> NotRetainInstancesOf<T>(string because = "", params object[] becauseArgs) =>
        Check(p => Verdict.Instances(p, Snapshots.HeapSnapshot.NameOf(typeof(T)), 0), because, becauseArgs);

    /// <summary>Asserts that at most <paramref name="perIteration"/> instances of <typeparamref name="T"/> were gained per iteration between the heap snapshots.</summary>
    public AndConstraint<LeakProfileAssertions> NotRetainMoreInstancesOf<T>(double perIteration, string because = "", params object[] becauseArgs)
    {
        if (!(perIteration >= 0) || double.IsInfinity(perIteration))
            throw new ArgumentOutOfRangeException(nameof(perIteration), $"The bound must be a finite number of instances per iteration, zero or more, but was {perIteration.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
        return Check(p => Verdict.Instances(p, Snapshots.HeapSnapshot.NameOf(typeof(T)), perIteration), because, becauseArgs);
    }

    private AndConstraint<LeakProfileAssertions> Check(Func<LeakProfile, Verdict> decide, string because, object[] becauseArgs)
    {
        // A leak assertion in a bare [LeakTest]'s flow is what makes it one.
        FailureRecorder.NoteMeasurement();
        var verdict = Subject is null ? null : decide(Subject);
        // The assertion decides; inside a [LeakTest] the adapter's recorder keeps the evidence and names its files.
        var message = verdict is { Passed: false } ? "\n\n" + FailureMessage.For(Subject!, verdict, FailureRecorder.Current) : "";
        Execute.Assertion
            .BecauseOf(because, becauseArgs)
            .ForCondition(Subject is not null)
            .FailWith("Expected {context:profile} to be measured{reason}, but found <null>.")
            .Then
            .ForCondition(verdict is { Passed: true })
            .FailWith("Expected {context:profile} to have {0}{reason}, but it {1}.{2}",
                new RawText(verdict?.Bound ?? ""), new RawText(verdict?.Finding ?? ""), new RawText(message));
        return new AndConstraint<LeakProfileAssertions>(this);
    }

    /// <summary>Text placed into a failure message as it is: FluentAssertions would quote and escape a string.</summary>
    internal sealed record RawText(string Text);

    private sealed class ReportFormatter : IValueFormatter
    {
        public bool CanHandle(object value) => value is RawText;

        public void Format(object value, FormattedObjectGraph formattedGraph, FormattingContext context, FormatChild formatChild) =>
            formattedGraph.AddFragment(((RawText)value).Text);
    }
}
