using System.Text.RegularExpressions;

namespace LeakAssert.Tests;

/// <summary>README's usage snippets are copied from the samples; this keeps them from drifting apart.</summary>
public sealed partial class ReadmeSnippetTests
{
    [Fact]
    public void Every_snippet_in_the_README_appears_in_its_sample_file_line_for_line()
    {
        var root = DemoProcessTests.RepositoryRoot();
        var readme = ReadText(Path.Combine(root, "README.md"));
        var snippets = Snippet().Matches(readme);
        snippets.Should().HaveCountGreaterThanOrEqualTo(2, "README shows the xUnit and NUnit samples");
        foreach (Match snippet in snippets)
        {
            var source = Lines(ReadText(Path.Combine(root, snippet.Groups["file"].Value)));
            var lines = Lines(snippet.Groups["code"].Value);
            var first = Array.IndexOf(source, lines[0]);
            first.Should().BeGreaterThanOrEqualTo(0, $"README's snippet from {snippet.Groups["file"].Value} starts with a line of that file: {lines[0]}");
            source.Skip(first).Take(lines.Length).Should().Equal(lines, $"README's snippet from {snippet.Groups["file"].Value} matches the file");
        }
    }

    [Fact]
    public void CI_runs_exactly_the_test_command_the_README_gives()
    {
        var root = DemoProcessTests.RepositoryRoot();
        var readme = ReadText(Path.Combine(root, "README.md"));
        var command = QuickStart().Match(readme).Groups["test"].Value.Trim();

        command.Should().Be("dotnet test -c Release", "the quick start's second command runs the tests");
        File.ReadAllLines(Path.Combine(root, ".ci", "run")).Should().Contain(l => l.TrimStart().StartsWith(command + " ", StringComparison.Ordinal),
            ".ci/run must run the README's test command itself");
        File.ReadAllText(Path.Combine(root, "tests", "LeakAssert.Tests", "LeakAssert.Tests.csproj")).Should().Contain("install-test-tools",
            "the test command installs what the tests need when it is missing");
        File.ReadAllText(Path.Combine(root, ".ci", "install-test-tools")).Should().Contain("apt-get install -y --no-install-recommends \"${missing[@]}\"");
    }

    [GeneratedRegex(@"## Quick start.*?```bash\n[^\n]*\n(?<test>[^#\n]*)#", RegexOptions.Singleline)]
    private static partial Regex QuickStart();

    // The patterns match "\n" only: a checkout that gave the files CRLF reads the same.
    private static string ReadText(string path) => File.ReadAllText(path).ReplaceLineEndings("\n");

    private static string[] Lines(string text) => text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();

    [GeneratedRegex(@"<!-- snippet: (?<file>[^ ]+) -->\s*```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex Snippet();
}
