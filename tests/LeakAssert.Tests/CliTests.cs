using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using LeakAssert.CommandLine;
using LeakAssert.Pprof;
using LeakAssert.Profiles;
using LeakAssert.Reporting;

namespace LeakAssert.Tests;

/// <summary>
/// The leakassert command on hand-written profile files: its top and traces are LeakAssert's own, its diff is the
/// diff file's top, and bad command lines and bad files end in one sentence and an exit code, never a stack trace.
/// </summary>
public sealed class CliTests : IDisposable
{
    private static readonly Frame Leaf = new("App.Cache.Add", "App", "/src/App/Cache.cs", 42);
    private static readonly Frame LeafOtherLine = new("App.Cache.Add", "App", "/src/App/Cache.cs", 47);
    private static readonly Frame Rent = new("App.Buffers.Rent", "App", "/src/App/Buffers.cs", 12);
    private static readonly Frame Log = new("App.Log.Write", "App", "/src/App/Log.cs", 7);
    private static readonly Frame Caller = new("App.Handler.Handle", "App", "/src/App/Handler.cs", 10);
    private static readonly Frame Root = new("Program+<>c.<Main>b__0_0", "App", "/src/App/Program.cs", 5);

    private static readonly DateTimeOffset At = new(2025, 3, 14, 13, 9, 26, TimeSpan.Zero);

    // before and after of one run; diff is after - before exactly, as LeakAssert writes it. Variances are whole
    // bytes², as the files keep them.
    private static readonly HeapProfile Before = new("before",
    [
        new ProfileSample([Rent, Caller, Root], "System.Byte[]", 10, 655_360, 10, 655_360, 6, 6, 4e10),
        new ProfileSample([Leaf, Caller, Root], "System.Byte[]", 100, 102_400, 100, 102_400, 1, 1, 1e10),
        new ProfileSample([Log, Root], "System.String", 50, 4_000, 0, 0, 1, 0, 0),
    ], At);

    private static readonly HeapProfile After = new("after",
    [
        new ProfileSample([Leaf, Caller, Root], "System.Byte[]", 5_100, 5_222_400, 5_000, 5_120_000, 51, 50, 5e11),
        new ProfileSample([Rent, Caller, Root], "System.Byte[]", 10, 655_360, 0, 0, 6, 0, 0),
        new ProfileSample([LeafOtherLine, Caller, Root], "System.String", 300, 19_200, 120, 7_680, 3, 2, 16),
        new ProfileSample([Log, Root], "System.String", 50, 4_000, 0, 0, 1, 0, 0),
    ], At.AddSeconds(2));

    private static readonly HeapProfile Diff = new("diff",
    [
        new ProfileSample([Leaf, Caller, Root], "System.Byte[]", 5_000, 5_120_000, 4_900, 5_017_600, 50, 49, 4.9e11),
        new ProfileSample([Rent, Caller, Root], "System.Byte[]", 0, 0, -10, -655_360, 0, 6, 4e10),
        new ProfileSample([LeafOtherLine, Caller, Root], "System.String", 300, 19_200, 120, 7_680, 3, 2, 16),
    ], At.AddSeconds(2));

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("leakassert-cli-");
    private readonly (string Before, string After, string Diff) _files;

    public CliTests() => _files = PprofFiles.Write(new ProfileSet(Before, After, Diff, 61, 0), _directory.FullName, "cart");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public void Top_prints_leakasserts_own_top_of_the_file_under_a_pprof_header()
    {
        var (exit, stdout, stderr) = Run("top", _files.Diff);

        exit.Should().Be(0, stderr);
        stderr.Should().BeEmpty();
        stdout.Should().Be($"File: {_files.Diff}\nType: inuse_space\nTime: 2025-03-14 13:09:28 UTC\n" + Printed(Top.Of(Diff, SampleValue.InuseSpace), Bytes));
        stdout.Should().Contain("    4.79MB 88.46% 88.46%     4.79MB 88.46%       51  App.Cache.Add\n")
            .And.Contain("    -640kB 11.54% 76.93%     -640kB 11.54%        6  App.Buffers.Rent\n");
    }

    [Fact]
    public void Top_takes_a_value_and_a_row_count_and_prints_counts_as_plain_numbers()
    {
        var (exit, stdout, stderr) = Run("top", "--value=alloc_objects", _files.Diff, "--rows", "1");

        exit.Should().Be(0, stderr);
        stdout.Should().Be($"File: {_files.Diff}\nType: alloc_objects\nTime: 2025-03-14 13:09:28 UTC\n"
            + Printed(Top.Of(Diff, SampleValue.AllocObjects, 1), n => n.ToString(CultureInfo.InvariantCulture)));
        stdout.Should().Contain("Showing top 1 nodes out of 3\n").And.Contain("      5300   100%   100%       5300   100%       53  App.Cache.Add\n");
    }

    [Fact]
    public void Diff_of_before_and_after_is_the_top_of_the_diff_file()
    {
        var (exit, stdout, stderr) = Run("diff", _files.Before, _files.After);
        var (_, ofDiffFile, _) = Run("top", _files.Diff);

        exit.Should().Be(0, stderr);
        stdout.Should().StartWith($"File: {_files.After}\nBase: {_files.Before}\nType: inuse_space\n");
        // The same rows and values; only the samples column differs: two files do not say which samples they share,
        // so the diff counts both files' samples, where LeakAssert's own diff counts those that changed.
        WithoutSamples(TableOf(stdout)).Should().Equal(WithoutSamples(TableOf(ofDiffFile)));
        TableOf(stdout).Should().Contain(r => r.Function == "App.Cache.Add" && r.Samples == 53).And.Contain(r => r.Function == "App.Buffers.Rent" && r.Samples == 6);
    }

    [Fact]
    public void The_diff_subtracts_by_stack_and_type_and_drops_rows_that_cancel_out()
    {
        var diff = ProfileDiff.Subtract(After, Before);

        diff.Name.Should().Be("diff");
        diff.CapturedAt.Should().Be(After.CapturedAt);
        diff.Samples.Should().BeEquivalentTo(
        [
            Diff.Samples[0] with { AllocSamples = 52, InuseSamples = 51, InuseBytesVariance = 5.1e11 },
            Diff.Samples[1] with { AllocSamples = 12, InuseSamples = 6 },
            Diff.Samples[2],
        ], o => o.WithStrictOrdering(), "App.Log.Write allocated the same in both and keeps nothing: it cancels out");
    }

    [Fact]
    public void Traces_show_every_stack_with_its_type_and_value()
    {
        var (exit, stdout, stderr) = Run("traces", _files.Diff);

        exit.Should().Be(0, stderr);
        stdout.Should().Be($"File: {_files.Diff}\nType: inuse_space\nTime: 2025-03-14 13:09:28 UTC\n" + Printed(Traces.Of(Diff, SampleValue.InuseSpace), Bytes));
        stdout.Should().Contain("      type:  System.Byte[]\n   samples:  49\n  margin95:  ±1.31MB\n    4.79MB   App.Cache.Add (Cache.cs:42)\n             App.Handler.Handle (Handler.cs:10)\n");
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("help")]
    [InlineData("-h")]
    public void Help_lists_the_commands_on_standard_output(string arg)
    {
        var (exit, stdout, stderr) = Run(arg);

        exit.Should().Be(0);
        stderr.Should().BeEmpty();
        stdout.Should().Be(Cli.Usage()).And.StartWith("Description:\n  leakassert reads LeakAssert's pprof heap profiles (.pb.gz) without Go.");
        stdout.Should().Contain("Usage:\n  leakassert [command] [options]\n").And.Contain("Exit status: 0 done, 1 a file could not be read or written, 2 a usage error.");
        foreach (var command in new[] { "top <FILE>", "traces <FILE>", "diff <BASE> <PROFILE>", "list <REGEX> <FILE>", "html <FILE>" })
            stdout.Should().Contain($"\n  {command} ");
        stdout.Should().Contain("-?, -h, --help").And.Contain("--version");
    }

    [Fact]
    public void No_arguments_print_the_usage_as_an_error()
    {
        var (exit, stdout, stderr) = Run();

        exit.Should().Be(2);
        stdout.Should().BeEmpty();
        stderr.Should().Be(Cli.Usage());
    }

    [Theory]
    [InlineData("help", "diff")]
    [InlineData("diff", "--help")]
    [InlineData("diff", "-h")]
    public void Each_command_has_its_own_help(string first, string second)
    {
        var (exit, stdout, _) = Run(first, second);

        exit.Should().Be(0);
        stdout.Should().StartWith("Description:\n  Subtracts BASE from PROFILE")
            .And.Contain("Usage:\n  leakassert diff <BASE> <PROFILE> [options]\n")
            .And.Contain("--value <V>").And.Contain("inuse_space").And.Contain("alloc_objects").And.Contain("--rows <N>");
        Run("html", "--help").Stdout.Should().Contain("-o, --output <OUT.html>").And.NotContain("--rows");
    }

    [Fact]
    public void A_response_file_holds_a_command_line()
    {
        var arguments = Path.Combine(_directory.FullName, "top.rsp");
        File.WriteAllText(arguments, $"top\n--rows 1\n\"{_files.Diff}\"\n");

        Run("@" + arguments).Should().Be(Run("top", "--rows", "1", _files.Diff)).And.Match<(int Exit, string, string)>(r => r.Exit == 0);
    }

    [Fact]
    public void Completions_suggest_the_commands_and_the_values()
    {
        Run("[suggest:2]", "di").Stdout.Should().Be("diff\n");
        Run("[suggest:19]", "top --value inuse_s").Stdout.Should().Be("inuse_space\n");
    }

    [Fact]
    public void Version_prints_the_tools_version()
    {
        var (exit, stdout, _) = Run("--version");

        exit.Should().Be(0);
        stdout.Should().MatchRegex(@"^leakassert [0-9]+\.[0-9]+\.[0-9]+\S*\n$");
    }

    [Theory]
    [InlineData("unknown command 'bogus'; expected top, traces, diff, list, html or help (see leakassert --help).", "bogus")]
    [InlineData("'--value' is not a command; options come after the command, as in leakassert top --value inuse_space FILE (commands: top, traces, diff, list, html or help).", "--value", "inuse_space", "top", "FILE")]
    [InlineData("unknown option '--bogus' for top; top takes --value and --rows (see leakassert help top).", "top", "--bogus", "FILE")]
    [InlineData("unknown option '--rows' for traces; traces takes --value only (see leakassert help traces).", "traces", "--rows", "3", "FILE")]
    [InlineData("top needs FILE (the .pb.gz profile to read); usage: leakassert top [--value V] [--rows N] FILE.", "top")]
    [InlineData("top needs FILE (the .pb.gz profile to read); usage: leakassert top [--value V] [--rows N] FILE.", "top", "--value", "alloc_space")]
    [InlineData("diff needs PROFILE (BASE and PROFILE are .pb.gz profiles; it shows PROFILE minus BASE); usage: leakassert diff [--value V] [--rows N] BASE PROFILE.", "diff", "FILE")]
    [InlineData("top takes FILE only, but was also given 'b.pb.gz'; usage: leakassert top [--value V] [--rows N] FILE.", "top", "a.pb.gz", "b.pb.gz")]
    [InlineData("--value must be one of inuse_space, inuse_objects, alloc_space or alloc_objects, but was 'space'.", "top", "--value", "space", "FILE")]
    [InlineData("--value needs a value: one of inuse_space, inuse_objects, alloc_space or alloc_objects.", "top", "FILE", "--value")]
    [InlineData("--rows must be a whole number from 1 to 2147483647, but was '0'.", "top", "--rows", "0", "FILE")]
    [InlineData("--rows must be a whole number from 1 to 2147483647, but was 'ten'.", "diff", "--rows=ten", "A", "B")]
    [InlineData("--rows must be a whole number from 1 to 2147483647, but was '-3'.", "top", "--rows", "-3", "FILE")]
    [InlineData("REGEX 'Cache(' is not a valid .NET regular expression (InsufficientClosingParentheses at offset 6); list takes one that matches function names, such as 'Cache\\.Add'.", "list", "Cache(", "FILE")]
    [InlineData("list needs FILE (a regular expression for function names, then the .pb.gz profile to read); usage: leakassert list [--value V] REGEX FILE.", "list", "Cache")]
    [InlineData("there is no command 'bogus' to help with; expected top, traces, diff, list or html.", "help", "bogus")]
    [InlineData("a FILE argument is empty; expected the path of a .pb.gz profile.", "top", "")]
    [InlineData("a FILE argument is empty; expected the path of a .pb.gz profile.", "top", " ")]
    public void A_usage_error_is_one_sentence_and_exit_code_2(string message, params string[] args)
    {
        var (exit, stdout, stderr) = Run(args);

        exit.Should().Be(2);
        stdout.Should().BeEmpty();
        stderr.Should().Be($"leakassert: {message}\n");
    }

    [Fact]
    public void A_missing_file_or_a_directory_is_unreadable_input_exit_code_1()
    {
        var missing = Path.Combine(_directory.FullName, "nope.pb.gz");

        Run("top", missing).Should().Be((1, "", $"leakassert: {missing} does not exist: expected a gzipped pprof profile (.pb.gz).\n"));
        Run("diff", _files.Before, _directory.FullName).Should().Be((1, "", $"leakassert: {_directory.FullName} is a directory, not a profile: expected a gzipped pprof profile (.pb.gz).\n"));
    }

    [Theory]
    [InlineData("not-gzip", "not-gzip.pb.gz is not gzip data: expected a gzipped pprof profile (.pb.gz).")]
    [InlineData("truncated", "truncated.pb.gz is truncated gzip data: its compressed stream ends early; expected a complete gzipped pprof profile (.pb.gz).")]
    [InlineData("random-gzip", "random-gzip.pb.gz is not a pprof profile: its gzip data does not hold a profile.proto message; expected a gzipped pprof profile (.pb.gz).")]
    [InlineData("corrupt-gzip", "corrupt-gzip.pb.gz is corrupt gzip data: it fails to decompress or its checksum does not match; expected a gzipped pprof profile (.pb.gz).")]
    [InlineData("empty", "empty.pb.gz is empty: expected a gzipped pprof profile (.pb.gz).")]
    public void A_corrupt_file_is_one_sentence_and_exit_code_1(string kind, string message)
    {
        var path = WriteCorrupt(kind);

        foreach (var args in new[] { ["top", path], ["traces", path], ["diff", _files.Before, path], (string[])["diff", path, _files.After] })
        {
            var (exit, stdout, stderr) = Run(args);

            exit.Should().Be(1, string.Join(" ", args));
            stdout.Should().BeEmpty();
            stderr.Should().Be($"leakassert: {message}\n");
        }
    }

    [Fact]
    public void A_gzip_bomb_is_one_sentence_and_exit_code_1()
    {
        var bomb = Path.Combine(_directory.FullName, "bomb.pb.gz");
        File.WriteAllBytes(bomb, PprofTests.GzipOfZeros((256L << 20) + 1));

        Run("top", bomb).Should().Be((1, "",
            "leakassert: bomb.pb.gz is too large: its gzip data decompresses to more than 256MB, the most LeakAssert reads as one profile.\n"));
    }

    [Fact]
    public void List_prints_leakasserts_source_list_with_the_lines_text()
    {
        var source = Path.Combine(_directory.FullName, "Cache.cs");
        File.WriteAllLines(source, Enumerable.Range(1, 30).Select(i => i == 12 ? "        _items.Add(new byte[1000]);" : $"        // line {i}"));
        var add = new Frame("App.Cache.Add", "App", source, 12);
        var profile = new HeapProfile("diff",
        [
            new ProfileSample([add, Caller, Root], "System.Byte[]", 5_000, 5_120_000, 4_900, 5_017_600, 50, 49, 4.9e11),
            new ProfileSample([Rent, add, Caller, Root], "System.Byte[]", 0, 0, -10, -655_360, 0, 6, 4e10),
        ], At);
        var file = PprofFiles.Write(new ProfileSet(profile, profile, profile, 55, 0), _directory.FullName, "list").Diff;

        var (exit, stdout, stderr) = Run("list", "Cache\\.Add$", file);

        exit.Should().Be(0, stderr);
        var expected = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        SourceList.Of(profile, SampleValue.InuseSpace, "Cache\\.Add$").Write(expected, Bytes);
        stdout.Should().Be($"File: {file}\nType: inuse_space\nTime: 2025-03-14 13:09:26 UTC\n" + expected);
        stdout.Should().Contain($"ROUTINE ======================== App.Cache.Add in {source}\n")
            .And.Contain("    4.79MB     4.16MB     12:        _items.Add(new byte[1000]);\n");
    }

    [Fact]
    public void List_without_a_match_says_so_and_succeeds()
    {
        Run("list", "--value", "alloc_space", "NoSuchFunction", _files.Diff)
            .Should().Be((0, $"File: {_files.Diff}\nType: alloc_space\nTime: 2025-03-14 13:09:28 UTC\nno matches found for regexp: NoSuchFunction\n", ""));
    }

    [Fact]
    public void A_regex_that_starts_with_a_dash_follows_two_dashes()
    {
        var (exit, stdout, stderr) = Run("list", "--", "-Add", _files.Diff);

        exit.Should().Be(0, stderr);
        stdout.Should().EndWith("no matches found for regexp: -Add\n");
        Run("list", "-Add", _files.Diff).Should().Be((2, "", "leakassert: unknown option '-Add' for list; list takes --value only (see leakassert help list).\n"));
    }

    [Fact]
    public void Html_writes_leakasserts_html_report_to_a_file_or_to_standard_output()
    {
        var expected = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        ProfilePage.Write(expected, Diff, SampleValue.AllocSpace, "cart.diff.pb.gz");
        var page = Path.Combine(_directory.FullName, "cart.html");

        Run("html", "--value", "alloc_space", "-o", page, _files.Diff).Should().Be((0, $"Wrote {page}\n", ""));
        File.ReadAllText(page).Should().Be(expected.ToString()).And.StartWith("<!DOCTYPE html>");
        Run("html", _files.Diff, "--value=alloc_space").Should().Be((0, expected.ToString(), ""));
    }

    [Fact]
    public void Html_that_cannot_be_written_is_one_sentence_and_exit_code_1()
    {
        var nowhere = Path.Combine(_directory.FullName, "missing", "cart.html");

        Run("html", "-o", nowhere, _files.Diff).Should().Be((1, "", $"leakassert: cannot write {nowhere}: the directory {Path.GetDirectoryName(nowhere)} does not exist.\n"));
        Run("html", "--output", _directory.FullName, _files.Diff).Should().Be((1, "", $"leakassert: {_directory.FullName} is a directory; -o needs the path of the HTML file to write.\n"));
        Run("html", _files.Diff, "-o").Should().Be((2, "", "leakassert: -o needs a value: the path of the HTML file to write.\n"));
    }

    [Fact]
    public void As_a_child_process_it_prints_the_same_and_fails_in_one_line_without_a_stack_trace()
    {
        var top = RunProcess("top", "--rows", "2", _files.Diff);
        top.Should().Be(Run("top", "--rows", "2", _files.Diff));

        foreach (var kind in new[] { "not-gzip", "truncated", "random-gzip", "empty" })
        {
            var path = WriteCorrupt(kind);
            var (exit, stdout, stderr) = RunProcess("top", path);

            exit.Should().Be(1, stderr);
            stdout.Should().BeEmpty();
            stderr.Should().StartWith($"leakassert: {kind}.pb.gz is ").And.EndWith("\n").And.NotContain("   at ");
            stderr.Count(c => c == '\n').Should().Be(1, stderr);
        }

        var usage = RunProcess("top", "--value", "bytes", _files.Diff);
        usage.Should().Be((2, "", "leakassert: --value must be one of inuse_space, inuse_objects, alloc_space or alloc_objects, but was 'bytes'.\n"));
    }

    private string WriteCorrupt(string kind)
    {
        var valid = File.ReadAllBytes(_files.Diff);
        byte[] bytes = kind switch
        {
            "not-gzip" => "hello, not a profile\n"u8.ToArray(),
            "truncated" => valid[..(valid.Length / 2)],
            "random-gzip" => Gzip(RandomBytes(4096)),
            "corrupt-gzip" => [.. valid[..20], .. RandomBytes(valid.Length - 20)],
            "empty" => [],
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "no such kind of corrupt file"),
        };
        var path = Path.Combine(_directory.FullName, kind + ".pb.gz");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(20250314).NextBytes(bytes);
        return bytes;
    }

    private static byte[] Gzip(byte[] bytes)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(bytes);
        return buffer.ToArray();
    }

    internal static string Bytes(long bytes) => ByteSize.Format(bytes);

    internal static (int Exit, string Stdout, string Stderr) Run(params string[] args)
    {
        var stdout = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        var stderr = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        var exit = Cli.Run(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs the built LeakAssert.Cli.dll with <c>dotnet</c>, as the installed tool runs.</summary>
    internal static (int Exit, string Stdout, string Stderr) RunProcess(params string[] args)
    {
        // The tests live in bin/{Configuration}/net10.0; the CLI was built with the same configuration.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var dll = Path.Combine(DemoProcessTests.RepositoryRoot(), "src", "LeakAssert.Cli", "bin", configuration, "net10.0", "LeakAssert.Cli.dll");
        File.Exists(dll).Should().BeTrue($"the test project builds the CLI to {dll}");
        var start = new ProcessStartInfo("dotnet", [dll, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"leakassert {string.Join(' ', args)} did not finish within a minute");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    internal static string Printed(Top top, Func<long, string> format)
    {
        var w = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        top.Write(w, format);
        return w.ToString();
    }

    internal static string Printed(Traces traces, Func<long, string> format)
    {
        var w = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        traces.Write(w, format);
        return w.ToString();
    }

    internal sealed record Row(string Flat, string FlatPercent, string SumPercent, string Cum, string CumPercent, int Samples, string Function);

    /// <summary>The rows of a printed top table: flat, flat%, sum%, cum, cum%, samples and the function.</summary>
    internal static List<Row> TableOf(string output)
    {
        var lines = output.Split('\n');
        var header = Array.FindIndex(lines, l => l == "      flat  flat%   sum%        cum   cum%  samples");
        header.Should().BeGreaterThanOrEqualTo(0, "a top table was printed\n{0}", output);
        return lines.Skip(header + 1).TakeWhile(l => l.Length > 0)
            .Select(l => Regex.Match(l, @"^ *(\S+) +(\S+%) +(\S+%) +(\S+) +(\S+%) +([0-9]+)  (.+)$"))
            .Select(m => m.Success
                ? new Row(m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value, m.Groups[4].Value, m.Groups[5].Value, int.Parse(m.Groups[6].Value, CultureInfo.InvariantCulture), m.Groups[7].Value)
                : throw new FormatException($"not a row of top: \"{m.Value}\" in\n{output}"))
            .ToList();
    }

    private static List<Row> WithoutSamples(List<Row> rows) => rows.Select(r => r with { Samples = 0 }).ToList();
}

/// <summary>
/// The leakassert command on the files of a real leak: its top row is LeakAssert's top row, its diff of before and
/// after is the diff file's top, and the installed-tool path (a child process) prints the same.
/// </summary>
[Collection(HeapCollection.Name)]
public sealed class LeakCliTests
{
    [Fact]
    public void On_a_real_leak_top_diff_and_traces_agree_with_leakassert()
    {
        var leak = new CliLeak();
        var profile = Leak.Profile(leak.Remember, iterations: 5_000, new LeakOptions { Sampling = SamplingMode.Always });
        CliLeak.Clear();
        profile.Profiles.Should().NotBeNull("{0}\n{1}", profile.SamplingProblem, profile.Report());
        var ours = Top.Of(profile.Profiles!.Diff, SampleValue.InuseSpace);
        ours.Rows[0].Function.Should().Be("LeakAssert.Tests.CliLeak.Remember", profile.Report());

        var directory = Directory.CreateTempSubdirectory("leakassert-cli-leak-");
        try
        {
            var files = PprofFiles.Write(profile.Profiles, directory.FullName, "leak");

            var (exit, top, stderr) = CliTests.Run("top", files.Diff);
            exit.Should().Be(0, stderr);
            var row = CliTests.TableOf(top)[0];
            row.Function.Should().Be(ours.Rows[0].Function, top);
            row.Flat.Should().Be(ByteSize.Format(ours.Rows[0].Flat), top);
            row.Cum.Should().Be(ByteSize.Format(ours.Rows[0].Cum), top);
            row.Samples.Should().Be(ours.Rows[0].Samples, top);
            top.Should().EndWith(CliTests.Printed(ours, CliTests.Bytes));

            var (diffExit, diff, diffError) = CliTests.Run("diff", files.Before, files.After);
            diffExit.Should().Be(0, diffError);
            var diffRow = CliTests.TableOf(diff)[0];
            diffRow.Function.Should().Be(ours.Rows[0].Function, diff);
            // after - before is the diff up to each row's rounding to whole bytes.
            var subtracted = Top.Of(ProfileDiff.Subtract(PprofFiles.Read(files.After), PprofFiles.Read(files.Before)), SampleValue.InuseSpace);
            subtracted.Rows[0].Function.Should().Be(ours.Rows[0].Function, profile.Report());
            subtracted.Rows[0].Flat.Should().BeCloseTo(ours.Rows[0].Flat, (ulong)profile.Profiles.Diff.Samples.Count, diff);
            diffRow.Flat.Should().Be(ByteSize.Format(subtracted.Rows[0].Flat), diff);

            var (tracesExit, traces, tracesError) = CliTests.Run("traces", files.Diff);
            tracesExit.Should().Be(0, tracesError);
            traces.Should().EndWith(CliTests.Printed(Traces.Of(profile.Profiles.Diff, SampleValue.InuseSpace), CliTests.Bytes))
                .And.Contain("type:  System.Byte[]")
                .And.Contain("LeakAssert.Tests.CliLeak.Remember (CliTests.cs:");

            var (listExit, list, listError) = CliTests.Run("list", "CliLeak\\.Remember", files.Diff);
            listExit.Should().Be(0, listError);
            list.Should().Contain("ROUTINE ======================== LeakAssert.Tests.CliLeak.Remember in ")
                .And.Contain("public void Remember() => Sink.Add(new byte[1000]);", "the PDB's file is read for the text of the line");

            var (htmlExit, html, htmlError) = CliTests.Run("html", files.Diff);
            htmlExit.Should().Be(0, htmlError);
            html.Should().StartWith("<!DOCTYPE html>").And.Contain("LeakAssert.Tests.CliLeak.Remember");

            CliTests.RunProcess("top", files.Diff).Should().Be((0, top, ""), "the tool prints what Cli.Run prints");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}

/// <summary>
/// A leak of its own, as PprofLeak is for the pprof tests: no other test calls it, so its top row names a method only
/// this test allocates in.
/// </summary>
public sealed class CliLeak
{
    private static readonly List<byte[]> Sink = new(capacity: 200_000);

    [MethodImpl(MethodImplOptions.NoInlining)]
    public void Remember() => Sink.Add(new byte[1000]);

    public static void Clear() => Sink.Clear();
}
