using LeakAssert.Pprof;

namespace LeakAssert.Artifacts;

/// <summary>
/// The one home of artifact file names and kinds: <c>{test}.{suffix}</c>, and what each file is, so that the
/// writer, the name-length guard and the adapters that attach files agree on them.
/// </summary>
internal sealed record ArtifactKind(string Suffix, string Description)
{
    public static readonly ArtifactKind TextReport = new(".report.txt", "report");
    public static readonly ArtifactKind HtmlReport = new(".report.html", "HTML report");
    public static readonly ArtifactKind BeforeProfile = new(PprofFiles.BeforeSuffix, "pprof profile");
    public static readonly ArtifactKind AfterProfile = new(PprofFiles.AfterSuffix, "pprof profile");
    public static readonly ArtifactKind DiffProfile = new(PprofFiles.DiffSuffix, "pprof profile");

    public static readonly ArtifactKind LeaksJson = new(".leaks.json", "leak groups (JSON)");

    public static readonly IReadOnlyList<ArtifactKind> All = [TextReport, HtmlReport, LeaksJson, BeforeProfile, AfterProfile, DiffProfile];

    /// <summary>The longest suffix: the file name a length guard must check.</summary>
    public static ArtifactKind Longest => All.MaxBy(k => k.Suffix.Length)!;

    /// <summary>The file name of this kind for a test.</summary>
    public string FileName(string testFileName) => testFileName + Suffix;
}

/// <summary>One file written for a failing leak test, and its kind.</summary>
internal sealed record ArtifactFile(string Path, ArtifactKind Kind)
{
    /// <inheritdoc />
    public override string ToString() => Path;
}
