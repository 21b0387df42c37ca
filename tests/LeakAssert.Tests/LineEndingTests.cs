using Xunit.Sdk;

namespace LeakAssert.Tests;

/// <summary>A checkout that gives text files CRLF (Windows without .gitattributes) compares as one with LF.</summary>
public sealed class LineEndingTests
{
    private static readonly string GoldenFolder = Path.Combine(DemoProcessTests.RepositoryRoot(), "tests", "LeakAssert.Tests", "Golden");

    [Fact]
    public void The_repository_s_golden_files_are_LF_as_gitattributes_asks()
    {
        File.ReadAllText(Path.Combine(DemoProcessTests.RepositoryRoot(), ".gitattributes")).Should().Contain("* text=auto eol=lf");
        Directory.GetFiles(GoldenFolder).Should().NotBeEmpty()
            .And.OnlyContain(f => !File.ReadAllText(f).Contains('\r'), "text is LF in every checkout");
    }

    [Fact]
    public void A_CRLF_copy_of_a_golden_file_matches_the_LF_output_and_a_changed_line_still_fails()
    {
        var golden = File.ReadAllText(Path.Combine(GoldenFolder, "report-leak.txt"));
        golden.Should().Contain("\n");
        var copy = Path.Combine(Directory.CreateTempSubdirectory("leakassert-golden-").FullName, "report-leak.txt");
        File.WriteAllText(copy, golden.ReplaceLineEndings("\r\n"));
        try
        {
            Golden.Matches(copy, golden, "a CRLF copy");
            Golden.Matches(copy, golden.ReplaceLineEndings("\r\n"), "a CRLF copy, against CRLF output");
            var changed = golden.Replace("\n", "\nchanged\n", StringComparison.Ordinal);
            FluentActions.Invoking(() => Golden.Matches(copy, changed, "a CRLF copy")).Should().Throw<XunitException>();
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(copy)!, recursive: true);
        }
    }
}
