using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using LeakAssert.Measurement;
using LeakAssert.Profiles;
using LeakAssert.Reporting;
using LeakAssert.Verdicts;

namespace LeakAssert.Tests;

/// <summary>The HTML report: self-contained, escaped, and rendered by a real headless Chromium without script errors.</summary>
public sealed class HtmlReportTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    // Names as the runtime spells them: generics and compiler-generated closures hold < > and &.
    private static readonly Frame Closure = new("Program+<>c.<Main>b__0_0", "App", "/src/App/Program.cs", 9);
    private static readonly Frame Generic = new("App.Store`1[System.Collections.Generic.List<int>].Put", "App", "/src/App/Store.cs", 31);
    private static readonly Frame Resize = new("System.Collections.Generic.List`1[System.__Canon].set_Capacity", "System.Private.CoreLib", null, 0);

    private static HeapProfile Angled() => new("diff",
    [
        new ProfileSample([Generic, Closure], "System.Collections.Generic.List<int>", 10, 409_600, 10, 409_600, 4, 4, 4e10),
        new ProfileSample([Resize, Generic, Closure], "App.Pair<int, string>&Ref[]", 1, 131_096, 1, 131_096, 1, 1, 1e10),
        new ProfileSample([Closure], "System.String", 2, 2_048, -2, -2_048, 1, 1, 1e9),
    ], At);

    [SkippableFact]
    public void The_page_is_self_contained_and_escapes_names_from_the_profile()
    {
        var html = Html(w => ProfilePage.Write(w, Angled(), SampleValue.InuseSpace, "diff <inuse_space> & more"));

        html.Should().StartWith("<!DOCTYPE html>\n");
        html.Should().NotMatchRegex("(?i)https?://", "nothing is fetched: no CDN, font or image");
        html.Should().NotMatchRegex(@"(?i)<(link|img|iframe)\b|\bsrc=|url\(|@import", "CSS, SVG and script are inline");
        foreach (var raw in (string[])["List<int>", "Pair<int, string>&Ref", "+<>c", "<Main>", "<inuse_space> & more"])
            html.Should().NotContain(raw, "every name from a profile is escaped");
        html.Should().Contain("<h1>diff &lt;inuse_space&gt; &amp; more</h1>")
            .And.Contain("<td class=\"fn\">Program+&lt;&gt;c.&lt;Main&gt;b__0_0</td>")
            .And.Contain("App.Store`1[System.Collections.Generic.List&lt;int&gt;].Put");
        // The flame graph's data: names as JSON \u escapes, so none can end the script element early.
        var data = Regex.Match(html, "<script type=\"application/json\" id=\"flame-data\">(.*?)</script>", RegexOptions.Singleline);
        data.Success.Should().BeTrue(html);
        data.Groups[1].Value.Should().Contain(@"Program\u002B\u003C\u003Ec.\u003CMain\u003Eb__0_0").And.NotContain("<");
    }

    [SkippableFact]
    public void The_flame_graph_data_runs_from_all_through_the_workload_to_the_type_and_leaves_out_shrinkage()
    {
        var html = Html(w => ProfilePage.Write(w, Angled(), SampleValue.InuseSpace, "diff"));
        var json = Regex.Match(html, "id=\"flame-data\">(.*?)</script>", RegexOptions.Singleline).Groups[1].Value;

        using var tree = System.Text.Json.JsonDocument.Parse(json);
        var root = tree.RootElement;
        (root.GetProperty("n").GetString(), root.GetProperty("v").GetInt64()).Should().Be(("all", 409_600 + 131_096), "only positive values are drawn");
        var closure = root.GetProperty("c").EnumerateArray().Should().ContainSingle().Subject;
        closure.GetProperty("n").GetString().Should().Be(Closure.Function, "the outermost frame, the workload, comes first");
        var generic = closure.GetProperty("c").EnumerateArray().Should().ContainSingle().Subject;
        generic.GetProperty("v").GetInt64().Should().Be(409_600 + 131_096);
        generic.GetProperty("p").GetString().Should().Be("100%");
        generic.GetProperty("c").EnumerateArray().Select(c => (c.GetProperty("n").GetString(), c.GetProperty("v").GetInt64(), c.GetProperty("k").GetInt32()))
            .Should().Equal(("System.Collections.Generic.List<int>", 409_600L, 3), (Resize.Function, 131_096L, 2));
        html.Should().Contain("Shrinkage of 2kB (memory freed since the baseline) is left out of the widths.");
    }

    [SkippableFact]
    public void Without_a_profile_the_page_shows_the_sampling_problem_instead_of_a_flame_graph()
    {
        var checkpoints = Enumerable.Range(0, 5).Select(k => new Checkpoint(k * 1_000, 4_000_000 + k * 1_000L * 1_100)).ToArray();
        var profile = new LeakProfile(new MeasuredRun
        {
            Iterations = 4_000, Warmup = 400, Checkpoints = checkpoints, AllocatedBytesPerIteration = 1_200, MinAttributionSamples = 10,
            SamplingProblem = "the runtime's diagnostics server is not available (is DOTNET_EnableDiagnostics=0 set?)",
            Elapsed = TimeSpan.FromSeconds(1), MeasuredTime = TimeSpan.FromSeconds(0.5),
        });

        var html = Html(w => HtmlReport.Write(w, profile, Verdict.PerIteration(profile, 64.Bytes().PerIteration())));

        html.Should().Contain("<p class=\"problem\" id=\"sampling-problem\">No heap profile: the runtime&#39;s diagnostics server is not available (is DOTNET_EnableDiagnostics=0 set?).");
        html.Should().Contain("<p class=\"verdict fail\" id=\"verdict\">FAILED: expected at most 64B retained per iteration;");
        html.Should().NotContain("id=\"flame\"").And.NotContain("<script", "without a flame graph there is nothing to script");
        Regex.Matches(html, "<circle class=\"measured\"").Count.Should().Be(5 + 1, "a point per checkpoint, and the legend's");
    }

    [SkippableFact]
    public void The_page_does_not_depend_on_the_current_culture()
    {
        var profile = ReportFormatTests.LeakingProfile();
        var verdict = Verdict.PerIteration(profile, 64.Bytes().PerIteration());
        var invariant = Html(w => HtmlReport.Write(w, profile, verdict));
        var previous = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
            Html(w => HtmlReport.Write(w, profile, verdict)).Should().Be(invariant);
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
        invariant.Should().NotContain("\r");
    }

    [SkippableFact]
    public void The_console_check_catches_a_script_error()
    {
        // The check the rendering tests rely on, shown to fail: a page whose script throws.
        var html = Html(w => ProfilePage.Write(w, Angled(), SampleValue.InuseSpace, "diff"))
            .Replace("render(root);", "render(root); undefinedFunctionOfTheTest();", StringComparison.Ordinal);

        var page = Chromium.Load(html);

        page.Console.Should().ContainSingle(l => l.Contains("Uncaught ReferenceError: undefinedFunctionOfTheTest is not defined", StringComparison.Ordinal), page.Log);
    }

    [SkippableFact]
    public void One_profiles_page_renders_its_flame_graph_in_chromium()
    {
        var page = Chromium.Load(Html(w => ProfilePage.Write(w, Angled(), SampleValue.InuseSpace, "diff")));

        page.Console.Should().BeEmpty("the page logs nothing and throws nothing");
        Chromium.Frames(page.Dom).Should().Contain([Closure.Function, Generic.Function, Resize.Function, "System.Collections.Generic.List<int>"]);
    }

    internal static string Html(Action<TextWriter> write)
    {
        using var w = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\r\n" };
        write(w);
        return w.ToString();
    }
}

/// <summary>The report of a real leak, rendered by headless Chromium.</summary>
[Collection(HeapCollection.Name)]
public sealed class HtmlReportLeakTests
{
    [SkippableFact]
    public void A_real_leaks_report_renders_without_console_errors_with_the_verdict_and_the_leaking_frame()
    {
        var leak = new StaticListLeak();
        var profile = Leak.Profile(leak.Remember, iterations: 5_000);
        StaticListLeak.Clear();
        profile.Profiles.Should().NotBeNull("{0}\n{1}", profile.SamplingProblem, profile.Report());
        var verdict = Verdict.PerIteration(profile, 64.Bytes().PerIteration());
        var html = HtmlReportTests.Html(w => HtmlReport.Write(w, profile, verdict));
        Chromium.Frames(html).Should().BeEmpty("the script draws the frames; the file holds only their data");

        var page = Chromium.Load(html);

        page.Console.Should().BeEmpty("the page logs nothing and throws nothing");
        page.Dom.Should().Contain("FAILED: expected at most 64B retained per iteration; retained ");
        Chromium.Frames(page.Dom).Should().Contain(["all", "LeakAssert.Tests.StaticListLeak.Remember", "System.Byte[]"], profile.Report());
    }
}

/// <summary>Headless Chromium: the DOM after the page's scripts ran, and what the page wrote to its console.</summary>
internal static class Chromium
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public sealed record Page(string Dom, IReadOnlyList<string> Console, string Log);

    /// <summary>The functions of the flame graph's frames in a DOM, unescaped.</summary>
    public static IReadOnlyList<string> Frames(string dom) =>
        Regex.Matches(dom, "<div [^>]*class=\"frame[^\"]*\"[^>]*data-function=\"([^\"]*)\"")
            .Select(m => System.Net.WebUtility.HtmlDecode(m.Groups[1].Value))
            .ToList();

    public static Page Load(string html)
    {
        var directory = Directory.CreateTempSubdirectory("leakassert-page-");
        try
        {
            var file = Path.Combine(directory.FullName, "report.html");
            File.WriteAllText(file, html);
            return Open(new Uri(file).AbsoluteUri);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>The DOM of a page after its scripts ran, with Chromium's <paramref name="arguments"/> (a window size, a time budget).</summary>
    public static Page Open(string url, params string[] arguments)
    {
        var chromium = TestTools.Browser();
        var directory = Directory.CreateTempSubdirectory("leakassert-chromium-");
        try
        {
            var start = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                         "--user-data-dir=" + Path.Combine(directory.FullName, "profile"), .. arguments, "--dump-dom", url])
                start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"chromium did not finish within {Timeout.TotalSeconds:F0} s");
            }
            process.ExitCode.Should().Be(0, "chromium renders the page\n{0}", stderr.Result);
            // Chromium logs every console message of the page as "...:CONSOLE..." whatever its level; an uncaught
            // exception shows as "Uncaught ...". The report writes nothing to the console, so any such line is a fault.
            var console = stderr.Result.Split('\n').Where(l => l.Contains(":CONSOLE", StringComparison.Ordinal) || l.Contains("Uncaught", StringComparison.Ordinal)).ToList();
            return new Page(stdout.Result, console, stderr.Result);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
