using System.Diagnostics;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Xml.Linq;

namespace LeakAssert.Tests;

/// <summary>
/// A child <c>dotnet test</c> of an already-built test project, with its TRX read back: how the [LeakTest] adapters
/// are proved in the real runners, with the real test host, filters and parallelism.
/// </summary>
internal sealed record ChildTestRun(int ExitCode, string Console, IReadOnlyList<ChildTestResult> Results)
{
    public static ChildTestRun Run(string project, string? filter, params (string Name, string Value)[] environment)
    {
        var root = DemoProcessTests.RepositoryRoot();
        var work = Directory.CreateTempSubdirectory("leakassert-child-").FullName;
        var trx = Path.Combine(work, "results.trx");
        var arguments = new List<string>
        {
            "test", Path.Combine(root, project), "-c", BuiltConfiguration(root, project), "--no-build",
            "--logger", $"trx;LogFileName={trx}", "--results-directory", work,
        };
        if (filter is not null) arguments.AddRange(["--filter", filter]);
        var (exitCode, console) = Dotnet(work, arguments, TimeSpan.FromMinutes(5), environment);
        File.Exists(trx).Should().BeTrue($"dotnet test writes its TRX; its output was:\n{console}");
        return new ChildTestRun(exitCode, console, ReadTrx(trx));
    }

    /// <summary>A child <c>dotnet</c> command in <paramref name="directory"/>: its exit code and its output.</summary>
    public static (int ExitCode, string Console) Dotnet(string directory, IEnumerable<string> arguments, TimeSpan timeout, params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo("dotnet", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory };
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        // The child must not inherit the parent test host's connection to its runner.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("VSTEST_", StringComparison.Ordinal)).ToArray()) start.Environment.Remove(name);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"dotnet {string.Join(' ', start.ArgumentList)} did not finish within {timeout.TotalMinutes:F0} minutes");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    // The fixtures are outside the solution, and a solution build gives projects outside it their default
    // configuration whatever the reference says; run the newest build there is (a stale one of the other
    // configuration, from building the fixture by hand, would run old tests).
    private static string BuiltConfiguration(string root, string project)
    {
        var built = new[] { DemoProcessTests.BuildConfiguration(), "Release", "Debug" }.Distinct()
            .Select(c => (Configuration: c, Assembly: new FileInfo(BuiltAssembly(root, project, c))))
            .Where(b => b.Assembly.Exists)
            .MaxBy(b => b.Assembly.LastWriteTimeUtc);
        return built.Configuration ?? throw new FileNotFoundException($"{project} is not built; the test project references it so that building the tests builds it.");
    }

    private static string BuiltAssembly(string root, string project, string configuration) =>
        Path.Combine(root, project, "bin", configuration, "net10.0", Path.GetFileName(project.TrimEnd('/')) + ".dll");

    /// <summary>The names of the assemblies the built project's assembly references: what runners read to recognize a test assembly.</summary>
    public static IReadOnlyList<string> AssemblyReferences(string project)
    {
        var root = DemoProcessTests.RepositoryRoot();
        using var reader = new PEReader(File.OpenRead(BuiltAssembly(root, project, BuiltConfiguration(root, project))));
        var metadata = reader.GetMetadataReader();
        return metadata.AssemblyReferences.Select(r => metadata.GetString(metadata.GetAssemblyReference(r).Name)).ToArray();
    }

    public ChildTestResult Single(string nameContains)
    {
        var matches = Results.Where(r => r.Name.Contains(nameContains, StringComparison.Ordinal)).ToArray();
        matches.Should().ContainSingle($"one test named like {nameContains} ran; the run printed:\n{Console}");
        return matches[0];
    }

    private static IReadOnlyList<ChildTestResult> ReadTrx(string path)
    {
        XNamespace ns = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";
        return XDocument.Load(path).Descendants(ns + "UnitTestResult").Select(r => new ChildTestResult(
            (string)r.Attribute("testName")!,
            (string)r.Attribute("outcome")!,
            (string?)r.Element(ns + "Output")?.Element(ns + "ErrorInfo")?.Element(ns + "Message") ?? "",
            (string?)r.Element(ns + "Output")?.Element(ns + "ErrorInfo")?.Element(ns + "StackTrace") ?? "",
            r.Element(ns + "ResultFiles")?.Elements(ns + "ResultFile").Select(f => (string)f.Attribute("path")!).ToArray() ?? [])).ToArray();
    }
}

public sealed record ChildTestResult(string Name, string Outcome, string Message, string StackTrace, IReadOnlyList<string> Attachments)
{
    public bool Passed => Outcome == "Passed";
    public bool Failed => Outcome == "Failed";
}
