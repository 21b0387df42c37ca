using System.Globalization;
using System.Text;
using LeakAssert.Assertions;
using LeakAssert.Pprof;
using LeakAssert.Reporting;

namespace LeakAssert.Artifacts;

/// <summary>
/// Writes a failing leak test's evidence into one folder per test,
/// <c>{root}/{Class}.{Method}/{Class}.{Method}.{kind}.{ext}</c>: the text and HTML reports and, when a profile was
/// taken, the before/after/diff pprof files. The root is <c>TestResults/LeakAssert</c> under the test project, or
/// <see cref="RootVariable"/> when set.
/// </summary>
internal static class ArtifactWriter
{
    /// <summary>The environment variable that moves the artifacts root (CI: point it at the folder you upload).</summary>
    public const string RootVariable = "LEAKASSERT_ARTIFACTS";

    // Linux and macOS refuse a path segment over 255 bytes; Windows without long-path support a path over 260 chars.
    private const int MaxSegmentBytes = 255;
    private const int MaxPathChars = 4000;

    /// <summary>The files written, or the one-sentence reason why none could be.</summary>
    public sealed record Result(IReadOnlyList<string> Files, string? Problem)
    {
        /// <summary>The lines a failure message ends with.</summary>
        public string Describe()
        {
            var b = new StringBuilder();
            if (Problem is not null) b.Append(CultureInfo.InvariantCulture, $"\nArtifacts not written: {Problem}");
            if (Files.Count > 0)
            {
                b.Append("\nArtifacts:");
                foreach (var f in Files) b.Append("\n  ").Append(f);
            }
            return b.ToString();
        }
    }

    /// <summary>Writes the artifacts of a failed verdict for the running test; never throws for I/O.</summary>
    public static Result WriteFailure(LeakTestContext test, LeakProfile profile, Verdict verdict)
    {
        string folder;
        try
        {
            folder = FolderFor(test);
        }
        catch (PathTooLongException e)
        {
            return new Result([], e.Message);
        }
        var prefix = Path.Combine(folder, Sanitize(test.TestName));
        var files = new List<string>();
        try
        {
            Directory.CreateDirectory(folder);
            var report = prefix + ".report.txt";
            File.WriteAllText(report, LeakReport.ToText(profile, verdict), new UTF8Encoding(false));
            files.Add(report);
            var html = prefix + ".report.html";
            using (var writer = new StreamWriter(html, append: false, new UTF8Encoding(false)))
                HtmlReport.Write(writer, profile, verdict);
            files.Add(html);
            if (profile.Profiles is { } set)
            {
                var (before, after, diff) = PprofFiles.Write(set, folder, Path.GetFileName(prefix));
                files.AddRange([before, after, diff]);
            }
            test.WrittenFiles.AddRange(files);
            return new Result(files, null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new Result(files, $"writing to {folder} failed ({e.Message.TrimEnd('.')}); set {RootVariable} to a writable directory.");
        }
    }

    /// <summary>The folder of one test's artifacts.</summary>
    /// <exception cref="PathTooLongException">The name or path is over what file systems accept; the message says what to change.</exception>
    public static string FolderFor(LeakTestContext test)
    {
        var name = Sanitize(test.TestName);
        // The longest file in the folder is "{name}.before.pb.gz"; its name is the segment that must fit.
        var longest = Encoding.UTF8.GetByteCount(name + ".report.html");
        if (longest > MaxSegmentBytes)
            throw new PathTooLongException($"the artifact file name for {test.TestName} is {longest} bytes, over the {MaxSegmentBytes} a file system accepts; shorten the test's class or method name, or its data row's arguments.");
        var folder = Path.Combine(Root(), name);
        var path = Path.Combine(folder, name + ".report.html");
        if (path.Length > MaxPathChars)
            throw new PathTooLongException($"the artifact path {path} is {path.Length} characters, over {MaxPathChars}; set {RootVariable} to a shorter directory.");
        return folder;
    }

    /// <summary>The artifacts root: <see cref="RootVariable"/>, else TestResults/LeakAssert beside the test project.</summary>
    public static string Root()
    {
        var configured = Environment.GetEnvironmentVariable(RootVariable);
        if (!string.IsNullOrWhiteSpace(configured)) return Path.GetFullPath(configured);
        return Path.Combine(ProjectDirectory() ?? Directory.GetCurrentDirectory(), "TestResults", "LeakAssert");
    }

    // dotnet test puts TestResults beside the test project; the test runs from its bin/{Configuration}/{tfm} below it.
    private static string? ProjectDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (dir.EnumerateFiles("*.*proj").Any(f => f.Extension is ".csproj" or ".fsproj" or ".vbproj")) return dir.FullName;
        }
        return null;
    }

    /// <summary>Characters no file system takes become '_'; the name stays readable.</summary>
    internal static string Sanitize(string name)
    {
        var invalid = new HashSet<char>([.. Path.GetInvalidFileNameChars(), '/', '\\', ':', '*', '?', '"', '<', '>', '|']);
        var chars = name.Select(c => invalid.Contains(c) || char.IsControl(c) ? '_' : c).ToArray();
        return new string(chars).Trim().TrimEnd('.');
    }
}
