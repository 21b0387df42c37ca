using System.Globalization;
using LeakAssert.Verdicts;

namespace LeakAssert.Artifacts;

/// <summary>
/// Which leak test is running, made current by a test adapter around a [LeakTest]: a failed verdict in the test
/// body (an assertion, or the adapter's own for the body-as-workload form) is recorded here as artifact files, and
/// the failure message names them.
/// </summary>
internal sealed class LeakTestContext(string className, string methodName, string? arguments) : FailureRecorder
{
    public string ClassName { get; } = className;
    public string MethodName { get; } = methodName;
    public string? Arguments { get; } = arguments;

    /// <summary>The running leak test, or null outside one.</summary>
    public static new LeakTestContext? Current => FailureRecorder.Current as LeakTestContext;

    /// <summary>The context of one test, or one data row of it (its arguments, culture-invariant, name the row).</summary>
    public static LeakTestContext For(string className, string methodName, object?[]? arguments) =>
        new(className, methodName, arguments is { Length: > 0 }
            ? string.Join(",", arguments.Select(a => Convert.ToString(a, CultureInfo.InvariantCulture) ?? "null"))
            : null);

    /// <summary>Files written for this test so far (a test may assert more than once); the adapter attaches them.</summary>
    public List<ArtifactFile> Written { get; } = [];

    /// <summary>The paths of <see cref="Written"/>.</summary>
    public IReadOnlyList<string> WrittenFiles => [.. Written.Select(f => f.Path)];

    /// <summary>"{Class}.{Method}" plus the data row's arguments, as the artifact folder and file prefix.</summary>
    public string TestName => Arguments is null ? $"{ClassName}.{MethodName}" : $"{ClassName}.{MethodName}({Arguments})";

    /// <inheritdoc />
    public override string Record(LeakProfile profile, Verdict verdict) => ArtifactWriter.WriteFailure(this, profile, verdict).Describe();
}
