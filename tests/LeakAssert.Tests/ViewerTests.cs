using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using LeakAssert.Pprof;
using LeakAssert.Profiles;
using Xunit.Abstractions;

namespace LeakAssert.Tests;

/// <summary>
/// LeakAssert's .pb.gz files in the viewers people open them with: speedscope (npm's speedscope, drawn by headless
/// Chromium) lists the leaking frame of a real leak's diff, and go tool pprof names the profile after the workload's
/// module instead of "unknown".
/// </summary>
[Collection(HeapCollection.Name)]
public sealed class ViewerTests(ITestOutputHelper output) : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("leakassert-viewers-");

    public void Dispose() => _directory.Delete(recursive: true);

    [SkippableFact]
    public void Speedscope_and_go_tool_pprof_open_a_real_leaks_diff_and_show_the_leaking_frame_first()
    {
        var profile = Leak.Profile(new StaticListLeak().Remember, iterations: 5_000);
        StaticListLeak.Clear();
        profile.Profiles.Should().NotBeNull("{0}\n{1}", profile.SamplingProblem, profile.Report());
        var files = PprofFiles.Write(profile.Profiles!, _directory.FullName, "leak");

        var rows = Speedscope.Sandwich(files.Diff, output);

        rows.Should().NotBeEmpty(profile.Report());
        // The sandwich table is speedscope's list of the frames it draws, by their own (self) value, largest first.
        rows[0].Function.Should().Be("LeakAssert.Tests.StaticListLeak.Remember", profile.Report());
        // Speedscope switches to MB at 1 MiB: about 2.5 MB of sampled leak, but a run that draws 10 samples shows KB.
        rows[0].Self.Should().MatchRegex(@"^[0-9.]+ [KM]B \([0-9.]+%\)$", "speedscope shows the leak's inuse_space in bytes\n{0}", profile.Report());
        GoPprof("-top", files.Diff).Should().StartWith("File: LeakAssert.Tests\n", "go tool pprof names the profile after the workload's module\n{0}", profile.Report());
    }

    [SkippableFact]
    public void Speedscope_lists_only_the_frames_a_profile_has()
    {
        // The control: a profile without the leaking frame. Its frames are listed, the leak's is not, so the test
        // above fails when speedscope does not draw what leaked.
        var other = new HeapProfile("diff",
        [
            new ProfileSample([new("App.Cache.Add", "App", "/src/App/Cache.cs", 42), new("App.Handler.Handle", "App", "/src/App/Handler.cs", 10)],
                "System.Byte[]", 5_000, 5_120_000, 4_900, 5_017_600, 50, 49, 4.9e11),
        ], DateTimeOffset.UnixEpoch);
        var file = Path.Combine(_directory.FullName, "other.diff.pb.gz");
        File.WriteAllBytes(file, PprofWriter.ToBytes(other));

        var rows = Speedscope.Sandwich(file, output);

        rows.Select(r => r.Function).Should().BeEquivalentTo("App.Cache.Add", "App.Handler.Handle");
        rows.Select(r => r.Function).Should().NotContain("LeakAssert.Tests.StaticListLeak.Remember");
    }

    [SkippableFact]
    public void Go_tool_pprof_names_the_profile_after_the_workloads_module()
    {
        Frame leaf = new("App.Cache.Add", "App.Core", "/src/App/Cache.cs", 42), root = new("Tests.CacheTests.Adding", "App.Tests", "/src/Tests/CacheTests.cs", 9);
        Frame runtime = new("System.Collections.Generic.List`1.Grow", "System.Private.CoreLib", null, 0);
        var profile = new HeapProfile("diff",
        [
            new ProfileSample([leaf, root], "System.Byte[]", 10, 10_240, 10, 10_240, 1, 1, 0),
            new ProfileSample([runtime, leaf, root], "System.Byte[]", 20, 20_480, 20, 20_480, 1, 1, 0),
            // More stacks, none retained: a runtime thread's allocations do not name the profile.
            new ProfileSample([runtime], "System.String", 30, 3_000, 0, 0, 1, 0, 0),
            new ProfileSample([new("System.Threading.Thread.StartCallback", "System.Private.CoreLib", null, 0)], "System.Int32[]", 30, 3_000, 0, 0, 1, 0, 0),
            new ProfileSample([new("System.GC.RunFinalizers", "System.Private.CoreLib", null, 0)], "System.Int32[]", 30, 3_000, 0, 0, 1, 0, 0),
        ], DateTimeOffset.UnixEpoch);
        var file = Path.Combine(_directory.FullName, "cache.diff.pb.gz");
        File.WriteAllBytes(file, PprofWriter.ToBytes(profile));

        // -http titles its pages "<File> <Type>" from the same legend -top prints; without a mapping file it said "unknown".
        var top = GoPprof("-top", file);
        top.Should().StartWith("File: App.Tests\n").And.NotContain("Main binary filename not available");
        var raw = GoPprof("-raw", file);
        raw.Should().Contain("Mappings\n1: 0x0/0x0/0x0 App.Tests  [FN][FL][LN]\n2: 0x0/0x0/0x0 App.Core  [FN][FL][LN]\n3: 0x0/0x0/0x0 System.Private.CoreLib  [FN][FL][LN]\n")
            .And.Contain(" M=2 App.Cache.Add /src/App/Cache.cs:42 ", "each location is in its module's mapping");
        PprofFiles.Read(file).Samples.Should().BeEquivalentTo(profile.Samples, "the mappings change nothing the reader restores");
    }

    private string GoPprof(params string[] args)
    {
        var start = new ProcessStartInfo(TestTools.Go()) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in (string[])["tool", "pprof", .. args]) start.ArgumentList.Add(a);
        start.Environment["PPROF_TMPDIR"] = _directory.FullName;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("go tool pprof did not start; .ci/install-test-tools installs golang-go.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"go tool pprof {string.Join(' ', args)} did not finish within 2 minutes");
        }
        var text = stdout.Result + stderr.Result;
        output.WriteLine($"$ go tool pprof {string.Join(' ', args)}\n{text}");
        process.ExitCode.Should().Be(0, text);
        return text;
    }
}

/// <summary>speedscope as its own command opens a file: its page, handed the file's bytes through a script.</summary>
internal static class Speedscope
{
    public const string Version = "1.25.0";

    public sealed record Row(string Total, string Self, string Function);

    /// <summary>
    /// Opens a profile in speedscope's sandwich view in headless Chromium and returns its table, the frames speedscope
    /// draws with their total and self values, in the order shown (largest self first). `speedscope FILE` loads a file
    /// the same way: a script that calls speedscope.loadFileFromBase64, named in the page's #localProfilePath.
    /// </summary>
    public static IReadOnlyList<Row> Sandwich(string file, ITestOutputHelper output)
    {
        var page = Path.Combine(TestTools.Speedscope(Version), "dist", "release", "index.html");
        var script = Path.ChangeExtension(file, ".speedscope.js");
        File.WriteAllText(script, string.Create(CultureInfo.InvariantCulture,
            $"speedscope.loadFileFromBase64(\"{Path.GetFileName(file)}\", \"{Convert.ToBase64String(File.ReadAllBytes(file))}\")"));
        // A tall window, so that the table (drawn only where it is visible) shows every row; virtual time lets the
        // page decompress and import the profile before the DOM is taken. On a busy machine the DOM can still be taken
        // before the table is drawn (the title already names the file): then load again with more time.
        var url = new Uri(page).AbsoluteUri + "#localProfilePath=" + script + "&view=sandwich";
        IReadOnlyList<Row> rows = [];
        Chromium.Page? last = null;
        foreach (var budget in (int[])[15_000, 30_000, 60_000])
        {
            var loaded = Chromium.Open(url, "--window-size=1600,4000", "--virtual-time-budget=" + budget.ToString(CultureInfo.InvariantCulture));
            output.WriteLine($"speedscope {url} (virtual time {budget} ms)\n{loaded.Dom}");
            // speedscope logs its version, WebGL and import steps to the console; an error or an exception is a fault.
            loaded.Console.Should().NotContain(l => l.Contains("Uncaught", StringComparison.Ordinal) || l.Contains("ERROR:CONSOLE", StringComparison.Ordinal), loaded.Log);
            last = loaded;
            rows = Regex.Matches(loaded.Dom,
                    @"<tr[^>]*><td[^>]*>([^<]*)<div.*?</td><td[^>]*>([^<]*)<div.*?</td><td[^>]*>(?:<span[^>]*></span>)?([^<]*)</td></tr>")
                .Select(m => new Row(WebUtility.HtmlDecode(m.Groups[1].Value), WebUtility.HtmlDecode(m.Groups[2].Value), WebUtility.HtmlDecode(m.Groups[3].Value)))
                .ToList();
            if (rows.Count > 0) break;
        }
        last!.Console.Should().Contain(l => l.Contains("Importing as protobuf encoded pprof file", StringComparison.Ordinal), "speedscope read the file as pprof\n{0}", last.Log);
        last.Dom.Should().Contain($"<title>{Path.GetFileName(file)} - speedscope</title>", "speedscope loaded the profile");
        return rows;
    }
}
