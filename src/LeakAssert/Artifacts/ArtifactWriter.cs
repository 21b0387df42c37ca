using System.Globalization;
using System.Text;
using System.Reflection;
using LeakAssert.Pprof;
using LeakAssert.Reporting;
using LeakAssert.Verdicts;

namespace LeakAssert.Artifacts;

/// <summary>
/// Writes a failing leak test's evidence into one folder per test,
/// <c>{root}/{Class}.{Method}-{hash}/{Class}.{Method}.{kind}.{ext}</c>: the text and HTML reports and, when a profile was
/// taken, the before/after/diff pprof files. The hash is of the exact test name, so that data rows differing only in
/// case (or in characters replaced to make the name portable) get folders of their own on Windows and macOS too. The root is <c>TestResults/LeakAssert</c> under the test project, or
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
    public sealed record Result(IReadOnlyList<ArtifactFile> Files, string? Problem)
    {
        /// <summary>The lines a failure message ends with.</summary>
        public string Describe()
        {
            var b = new StringBuilder();
            if (Problem is not null) b.Append(CultureInfo.InvariantCulture, $"\nArtifacts not written: {Problem}");
            if (Files.Count > 0)
            {
                b.Append("\nArtifacts:");
                foreach (var f in Files) b.Append("\n  ").Append(f.Path);
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
        var name = Sanitize(test.TestName);
        var files = new List<ArtifactFile>();
        void Write(ArtifactKind kind, Action<Stream> write)
        {
            var path = Path.Combine(folder, kind.FileName(name));
            using (var stream = new FileStream(path, FileMode.Create, FileAccess.Write)) write(stream);
            files.Add(new ArtifactFile(path, kind));
        }
        void WriteText(ArtifactKind kind, Action<TextWriter> write) =>
            Write(kind, stream =>
            {
                using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { NewLine = "\n" };
                write(writer);
            });
        try
        {
            Directory.CreateDirectory(folder);
            WriteText(ArtifactKind.TextReport, w => LeakReport.Write(w, profile, verdict));
            WriteText(ArtifactKind.HtmlReport, w => HtmlReport.Write(w, profile, verdict));
            if (profile.HeapGrowth is { } heap) Write(ArtifactKind.LeaksJson, s => LeaksJson.Write(s, heap));
            if (profile.Profiles is { } set)
            {
                Write(ArtifactKind.BeforeProfile, s => PprofWriter.Write(set.Before, s));
                Write(ArtifactKind.AfterProfile, s => PprofWriter.Write(set.After, s));
                Write(ArtifactKind.DiffProfile, s => PprofWriter.Write(set.Diff, s));
            }
            test.Written.AddRange(files);
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
        // The longest file name in the folder is the segment that must fit.
        var longest = Encoding.UTF8.GetByteCount(ArtifactKind.Longest.FileName(name));
        if (longest > MaxSegmentBytes)
            throw new PathTooLongException($"the artifact file name for {test.TestName} is {longest} bytes, over the {MaxSegmentBytes} a file system accepts; shorten the test's class or method name, or its data row's arguments.");
        var folder = Path.Combine(Root(), $"{name}-{Hash(test.TestName)}");
        var path = Path.Combine(folder, ArtifactKind.Longest.FileName(name));
        if (path.Length > MaxPathChars)
            throw new PathTooLongException($"the artifact path {path} is {path.Length} characters, over {MaxPathChars}; set {RootVariable} to a shorter directory.");
        return folder;
    }

    /// <summary>The artifacts root: <see cref="RootVariable"/>, else TestResults/LeakAssert beside the test project.</summary>
    public static string Root()
    {
        var configured = Environment.GetEnvironmentVariable(RootVariable);
        if (!string.IsNullOrWhiteSpace(configured)) return Path.GetFullPath(configured);
        var project = ProjectDirectory(AppDomain.CurrentDomain.GetAssemblies(), AppContext.BaseDirectory);
        return Path.Combine(project ?? Directory.GetCurrentDirectory(), "TestResults", "LeakAssert");
    }

    /// <summary>The assembly-metadata key under which the adapters' build targets record the test project's folder.</summary>
    public const string ProjectDirectoryKey = "LeakAssert.ProjectDirectory";

    /// <summary>
    /// The test project's folder: as recorded in the test assembly at build (the adapters' targets do so: with
    /// <c>UseArtifactsOutput</c> or an output path elsewhere, the binaries are not below the project), else the first
    /// folder above the binaries that holds a project file (what <c>dotnet test</c>'s own TestResults sits beside).
    /// </summary>
    internal static string? ProjectDirectory(IEnumerable<Assembly> loaded, string baseDirectory)
    {
        var recorded = loaded.SelectMany(RecordedProjectDirectories).Where(Directory.Exists).Distinct(StringComparer.Ordinal).ToArray();
        // Two test assemblies in one process name two projects: neither is the one, so the binaries decide.
        if (recorded.Length == 1) return recorded[0];
        for (var dir = new DirectoryInfo(baseDirectory); dir is not null; dir = dir.Parent)
        {
            if (dir.Exists && dir.EnumerateFiles("*.*proj").Any(f => f.Extension is ".csproj" or ".fsproj" or ".vbproj")) return dir.FullName;
        }
        return null;
    }

    private static IEnumerable<string> RecordedProjectDirectories(Assembly assembly)
    {
        try
        {
            return assembly.GetCustomAttributes(typeof(AssemblyMetadataAttribute), inherit: false)
                .Cast<AssemblyMetadataAttribute>()
                .Where(m => m.Key == ProjectDirectoryKey && !string.IsNullOrWhiteSpace(m.Value))
                .Select(m => m.Value!)
                .ToArray();
        }
        catch (Exception e) when (e is TypeLoadException or FileNotFoundException or FileLoadException or NotSupportedException)
        {
            // An assembly whose attributes cannot be read records nothing.
            return [];
        }
    }

    /// <summary>Characters or names some file system refuses are replaced; the name stays readable.</summary>
    internal static string Sanitize(string name) => PortableFileName.Replace(name.TrimStart());

    // Eight hex digits of SHA-256: stable across runs and runtimes (string.GetHashCode is not), and lowercase, so
    // the suffix itself cannot differ only in case.
    private static string Hash(string name) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..8];
}
