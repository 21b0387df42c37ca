using System.Diagnostics;

namespace LeakAssert.Tests;

/// <summary>
/// The README's main command, run as a child process: the leak is caught and reported, the fix passes. And the same
/// with the runtime's diagnostics turned off, where the exact verdict must still stand and the report must say why
/// no profile exists.
/// </summary>
[Collection(HeapCollection.Name)]
public sealed class DemoProcessTests
{
    [Fact]
    public void The_demo_catches_the_leak_with_top_and_traces_and_passes_the_fix()
    {
        var (exit, output) = RunDemo();

        exit.Should().Be(0, output);
        output.Should().Contain("Verdict: FAILED (a leak was caught)").And.Contain("Verdict: PASSED");
        var topRow = output.Split('\n').SkipWhile(l => !l.StartsWith("      flat  flat%", StringComparison.Ordinal)).Skip(1).First();
        topRow.Should().EndWith("LeakAssert.Demo.LeakyPriceService.Handle");
        output.Should().Contain("-----------+-------------------------------------------------------")
            .And.Contain("LeakAssert.Demo.LeakyPriceService.Handle (PriceService.cs:");
    }

    [Fact]
    public void The_README_s_sample_output_is_the_demo_s_output_line_for_line_but_for_its_numbers()
    {
        var (exit, output) = RunDemo();
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md")).ReplaceLineEndings("\n");
        var start = readme.IndexOf("```\n=== leaky: ", StringComparison.Ordinal);
        start.Should().BeGreaterThan(0, "the README shows the demo's output");
        var block = readme[(start + 4)..readme.IndexOf("\n```", start + 4, StringComparison.Ordinal)];

        // In order, each shown line is a line of the demo's output; "..." stands for lines left out. Measured numbers
        // differ from run to run, so digits compare as one.
        exit.Should().Be(0, output);
        var lines = output.ReplaceLineEndings("\n").Split('\n').Select(Masked).ToList();
        var at = 0;
        // The sampled lines are there only when the trace session could record (it may lose events on a loaded
        // machine; the report then says so): they are checked when it did.
        var leaky = output.Split("=== fixed", 2)[0];
        var sampled = !leaky.Contains("No heap profile: ", StringComparison.Ordinal);
        string[] fromSamples = ["     allocated at: ", "Where it was allocated: ", "estimate "];
        foreach (var shown in block.Split('\n').Where(l => l.Trim() != "..." && (sampled || !fromSamples.Any(l.StartsWith))))
        {
            var found = lines.FindIndex(at, l => l == Masked(shown));
            found.Should().BeGreaterThanOrEqualTo(0, $"the README's line \"{shown}\" is in the demo's output, after the lines before it:\n{output}");
            at = found + 1;
        }
    }

    // Digits, the separators between them and a size's unit read as one: "1.08kB" and "999.40B" compare equal.
    private static string Masked(string line) =>
        System.Text.RegularExpressions.Regex.Replace(line.TrimEnd(), @"[-+±]?\d[\d,.]*(kB|MB|GB|B)?", "#");

    [Fact]
    public void With_diagnostics_disabled_the_exact_verdict_stands_and_the_report_says_why_there_is_no_profile()
    {
        var (exit, output) = RunDemo(("DOTNET_EnableDiagnostics", "0"));

        exit.Should().Be(0, output);
        output.Should().Contain("Verdict: FAILED (a leak was caught)").And.Contain("Verdict: PASSED");
        output.Should().Contain("No heap profile: the runtime's diagnostics server is not available (is DOTNET_EnableDiagnostics=0 set?)");
        output.Should().NotContain("Showing nodes accounting for");
    }

    private static (int Exit, string Output) RunDemo(params (string Name, string Value)[] environment)
    {
        var demo = Path.Combine(RepositoryRoot(), "samples", "LeakAssert.Demo", "bin", BuildConfiguration(), "net10.0", "LeakAssert.Demo.dll");
        File.Exists(demo).Should().BeTrue($"the test project builds the demo to {demo}");
        var start = new ProcessStartInfo("dotnet", [demo]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("the demo did not finish within 3 minutes");
        }
        // The demo writes the platform's newline; the checks split on "\n".
        return (process.ExitCode, (stdout.Result + stderr.Result).ReplaceLineEndings("\n"));
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LeakAssert.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("LeakAssert.sln not found above " + AppContext.BaseDirectory);
    }

    // The test assembly lives in bin/{Configuration}/net10.0; the demo was built with the same configuration.
    internal static string BuildConfiguration() => new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
}
