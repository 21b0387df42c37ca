using LeakAssert.Verdicts;

namespace LeakAssert.Reporting;

/// <summary>
/// The one failure message of a failed verdict, for an assertion (after FluentAssertions' sentence) and a body-form
/// [LeakTest] (as the whole message) alike: the report, then what the running test's recorder kept (its files).
/// </summary>
internal static class FailureMessage
{
    /// <summary>The report of <paramref name="failed"/> and the lines <paramref name="recorder"/> ends it with (none outside a leak test).</summary>
    public static string For(LeakProfile p, Verdict failed, FailureRecorder? recorder) =>
        LeakReport.ToText(p, failed).TrimEnd('\n') + "\n" + (recorder?.Record(p, failed) ?? "");
}
