using System.Diagnostics;
using System.Globalization;
using System.Xml.Linq;

namespace LeakAssert.Bench;

/// <summary>
/// What [LeakTest] costs a test run: the fixture projects' "Cost" tests (eight ordinary ~200 ms tests that run in
/// parallel, four body-form leak tests of 2,000 iterations) run in child <c>dotnet test</c> processes with and
/// without the leak tests. Leak tests run alone after the parallel tests, so their time adds to the run's.
/// </summary>
internal static class AdapterCost
{
    public static string Run(string root, int runs)
    {
        using var doc = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        doc.WriteLine("# [LeakTest] in a test run: wall time");
        doc.WriteLine();
        doc.WriteLine($"Reproduce: `dotnet run --project bench/LeakAssert.Bench -c Release -- --adapters --runs {runs}`. Medians of {runs} child `dotnet test --no-build` runs a row;");
        doc.WriteLine("\"process\" includes the test host's start (~1-2 s), \"tests\" is the run's own duration from its TRX.");
        doc.WriteLine();
        doc.WriteLine("| framework | tests run | process | tests | median per leak test |");
        doc.WriteLine("|---|---|---:|---:|---:|");
        foreach (var (framework, project, category, kind) in new[]
                 {
                     ("xUnit", "tests/Fixtures/LeakAssert.Xunit.Fixture", "Category=Cost", "Kind"),
                     ("NUnit", "tests/Fixtures/LeakAssert.NUnit.Fixture", "TestCategory=Cost", "TestCategory"),
                 })
        {
            foreach (var (label, filter) in new[]
                     {
                         ("8 ordinary", $"{category}&{kind}=Ordinary"),
                         ("8 ordinary + 4 leak tests", category),
                         ("4 leak tests", $"{category}&{kind}=Leak"),
                     })
            {
                var results = Enumerable.Range(0, runs).Select(_ => Once(root, project, filter)).ToList();
                var perLeakTest = results.SelectMany(r => r.LeakTests).ToList();
                doc.WriteLine($"| {framework} | {label} | {Median(results.Select(r => r.Process))} | {Median(results.Select(r => r.Tests))} | {(perLeakTest.Count == 0 ? "-" : Median(perLeakTest))} |");
                Console.Error.WriteLine($"{framework} / {label}: done");
            }
        }
        return doc.ToString();
    }

    private static (double Process, double Tests, List<double> LeakTests) Once(string root, string project, string filter)
    {
        var work = Directory.CreateTempSubdirectory("leakassert-bench-").FullName;
        var trx = Path.Combine(work, "run.trx");
        var start = new ProcessStartInfo("dotnet", ["test", Path.Combine(root, project), "-c", "Release", "--no-build", "--filter", filter, "--logger", $"trx;LogFileName={trx}"])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        process.StandardError.ReadToEnd();
        process.WaitForExit();
        var elapsed = clock.Elapsed.TotalSeconds;
        if (process.ExitCode != 0) throw new InvalidOperationException($"dotnet test {project} --filter {filter} failed:\n{output.Result}");
        XNamespace ns = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";
        var xml = XDocument.Load(trx);
        var times = xml.Descendants(ns + "Times").Single();
        var tests = (DateTimeOffset.Parse((string)times.Attribute("finish")!, CultureInfo.InvariantCulture) - DateTimeOffset.Parse((string)times.Attribute("start")!, CultureInfo.InvariantCulture)).TotalSeconds;
        var leakTests = xml.Descendants(ns + "UnitTestResult")
            .Where(r => ((string)r.Attribute("testName")!).Contains("Leak_test_", StringComparison.Ordinal))
            .Select(r => TimeSpan.Parse((string)r.Attribute("duration")!, CultureInfo.InvariantCulture).TotalSeconds).ToList();
        Directory.Delete(work, recursive: true);
        return (elapsed, tests, leakTests);
    }

    private static string Median(IEnumerable<double> seconds)
    {
        var sorted = seconds.Order().ToArray();
        var m = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        return m < 1 ? $"{m * 1000:F0} ms" : $"{m:F2} s";
    }
}
