using System.Globalization;
using LeakAssert.Profiles;
using LeakAssert.Reporting;

namespace LeakAssert.Tests;

/// <summary>pprof's <c>list</c>: flat and cum per source line, with the file's text when it is on disk.</summary>
public sealed class SourceListTests : IDisposable
{
    private static readonly DateTimeOffset At = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("leakassert-list-");

    public void Dispose() => _directory.Delete(recursive: true);

    private string SourceFile(string name, int lines)
    {
        var path = Path.Combine(_directory.FullName, name);
        File.WriteAllLines(path, Enumerable.Range(1, lines).Select(i => string.Create(CultureInfo.InvariantCulture, $"    code {i};")));
        return path;
    }

    [Fact]
    public void Flat_is_the_leaf_line_and_cum_counts_each_sample_once_per_line()
    {
        var cache = SourceFile("Cache.cs", 30);
        var handler = SourceFile("Handler.cs", 10);
        Frame Add(int line) => new("App.Cache.Add", "App", cache, line);
        var caller = new Frame("App.Handler.Handle", "App", handler, 4);
        var profile = new HeapProfile("diff",
        [
            new ProfileSample([Add(10), caller], "System.Byte[]", 0, 0, 0, 4_000, 0, 4, 0),
            new ProfileSample([Add(12), caller], "System.String", 0, 0, 0, 1_000, 0, 1, 0),
            // Recursion through line 20 into line 10: flat at 10, cum at 10 and 20, and line 20 once though twice in the stack.
            new ProfileSample([Add(10), Add(20), Add(20), caller], "System.Byte[]", 0, 0, 0, 500, 0, 1, 0),
            new ProfileSample([new Frame("App.Other.Run", "App", handler, 7), caller], "System.Object", 0, 0, 0, -300, 0, 1, 0),
        ], At);

        var list = SourceList.Of(profile, SampleValue.InuseSpace, @"Cache\.Add", contextLines: 1);

        list.Total.Should().Be(4_000 + 1_000 + 500 + 300, "pprof's total is the sum of absolute values");
        var routine = list.Routines.Should().ContainSingle().Subject;
        (routine.Function, routine.File, routine.SourceFound).Should().Be(("App.Cache.Add", cache, true));
        routine.Lines.Should().Equal(
            new SourceLine(9, 0, 0, "    code 9;"),
            new SourceLine(10, 4_500, 4_500, "    code 10;"),
            new SourceLine(11, 0, 0, "    code 11;"),
            new SourceLine(12, 1_000, 1_000, "    code 12;"),
            new SourceLine(13, 0, 0, "    code 13;"),
            new SourceLine(19, 0, 0, "    code 19;"),
            new SourceLine(20, 0, 500, "    code 20;"),
            new SourceLine(21, 0, 0, "    code 21;"));
        (routine.Flat, routine.Cum).Should().Be((5_500, 6_000), "the sums over lines, as pprof's list header");

        Print(list).Should().Be(
            "Total: 5800\n" +
            $"ROUTINE ======================== App.Cache.Add in {cache}\n" +
            "      5500       6000 (flat, cum) 103.45% of Total\n" +
            "         .          .      9:    code 9;\n" +
            "      4500       4500     10:    code 10;\n" +
            "         .          .     11:    code 11;\n" +
            "      1000       1000     12:    code 12;\n" +
            "         .          .     13:    code 13;\n" +
            "                         ...\n" +
            "         .          .     19:    code 19;\n" +
            "         .        500     20:    code 20;\n" +
            "         .          .     21:    code 21;\n");
    }

    [Fact]
    public void Functions_are_listed_by_name_with_caller_cum_and_frames_without_files_say_so()
    {
        var handler = SourceFile("Handler.cs", 3);
        var leaf = new Frame("System.Collections.Generic.List`1[System.__Canon].set_Capacity", "System.Private.CoreLib", null, 0);
        var caller = new Frame("App.Handler.Handle", "App", handler, 2);
        var profile = new HeapProfile("diff", [new ProfileSample([leaf, caller], "App.Item[]", 0, 0, 0, 2_048, 0, 2, 0)], At);

        var list = SourceList.Of(profile, SampleValue.InuseSpace, "set_Capacity|Handler");

        list.Routines.Select(r => r.Function).Should().Equal("App.Handler.Handle", leaf.Function);
        list.Routines[0].Lines.Should().Equal(
            new SourceLine(1, 0, 0, "    code 1;"), new SourceLine(2, 0, 2_048, "    code 2;"), new SourceLine(3, 0, 0, "    code 3;"));
        list.Routines[1].Should().BeEquivalentTo(new { File = (string?)null, Flat = 2_048L, Cum = 2_048L, SourceFound = false, Lines = Array.Empty<SourceLine>() });
        Print(list).Should().EndWith($"No source information for {leaf.Function}\n");
    }

    [Fact]
    public void A_missing_source_file_shows_the_lines_with_values_and_says_so_once()
    {
        var missing = Path.Combine(_directory.FullName, "Gone.cs");
        var frame = (int line) => new Frame("App.Gone.Run", "App", missing, line);
        var profile = new HeapProfile("diff",
        [
            new ProfileSample([frame(7)], "System.Byte[]", 0, 0, 0, 1_536, 0, 1, 0),
            new ProfileSample([frame(40)], "System.Byte[]", 0, 0, 0, 512, 0, 1, 0),
        ], At);

        var list = SourceList.Of(profile, SampleValue.InuseSpace, "Gone");

        list.Routines.Single().SourceFound.Should().BeFalse();
        Print(list).Should().Be(
            "Total: 2048\n" +
            $"ROUTINE ======================== App.Gone.Run in {missing}\n" +
            "      2048       2048 (flat, cum)   100% of Total\n" +
            $" Source not found: {missing}; showing only the lines with values.\n" +
            "      1536       1536      7:\n" +
            "                         ...\n" +
            "       512        512     40:\n");
    }

    [Fact]
    public void No_match_says_so_as_pprof_does_and_a_bad_pattern_is_refused_in_one_sentence()
    {
        var profile = new HeapProfile("diff", [new ProfileSample([new Frame("A.B", "A", null, 0)], "T", 0, 0, 0, 1, 0, 1, 0)], At);

        Print(SourceList.Of(profile, SampleValue.InuseSpace, "Nothing")).Should().Be("no matches found for regexp: Nothing\n");
        var bad = () => SourceList.Of(profile, SampleValue.InuseSpace, "(unclosed");
        bad.Should().Throw<ArgumentException>().WithMessage("The function pattern must be a regular expression, but \"(unclosed\" is not: *");
    }

    private static string Print(SourceList list)
    {
        using var w = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        list.Write(w, v => v.ToString(CultureInfo.InvariantCulture));
        return w.ToString();
    }
}

/// <summary>A real leak listed: the leaking line of Workloads.cs carries the retained value.</summary>
[Collection(HeapCollection.Name)]
public sealed class SourceListLeakTests
{
    [Fact]
    public void The_leaking_line_of_a_real_leak_carries_its_value()
    {
        var leak = new StaticListLeak();
        var profile = Leak.Profile(leak.Remember, iterations: 5_000);
        StaticListLeak.Clear();
        profile.Profiles.Should().NotBeNull("{0}\n{1}", profile.SamplingProblem, profile.Report());
        var diff = profile.Profiles!.Diff;

        var list = SourceList.Of(diff, SampleValue.InuseSpace, @"StaticListLeak\.Remember$");

        var routine = list.Routines.Should().ContainSingle(profile.Report()).Subject;
        routine.File.Should().EndWith("Workloads.cs", profile.Report());
        routine.SourceFound.Should().BeTrue("the test's own source is on disk where its PDB says\n{0}", profile.Report());
        var leaking = File.ReadAllLines(routine.File!).ToList().FindIndex(l => l.Contains("Sink.Add(new byte[1000])", StringComparison.Ordinal)) + 1;
        leaking.Should().BePositive();
        var line = routine.Lines.Should().ContainSingle(l => l.Flat != 0, profile.Report()).Subject;
        line.Line.Should().Be(leaking, "the allocation is on that line\n{0}", profile.Report());
        line.Text.Should().Contain("new byte[1000]");
        line.Flat.Should().Be(Top.Of(diff, SampleValue.InuseSpace).Rows.Single(r => r.Function == "LeakAssert.Tests.StaticListLeak.Remember").Flat, profile.Report())
            .And.BeGreaterThan(profile.ProfiledGrowth.Bytes / 10, "the line carries the sampled leak: about 25 samples are due, and fewer than 3 not once in a hundred million runs\n{0}", profile.Report());
        profile.Report().Should().Contain("list LeakAssert.Tests.StaticListLeak.Remember (inuse_space):")
            .And.MatchRegex($@"\n +[0-9.]+[kM]B +[0-9.]+[kM]B +{leaking}: .*new byte\[1000\]", profile.Report());
    }
}
