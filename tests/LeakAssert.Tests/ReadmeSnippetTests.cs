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
        File.ReadAllText(Path.Combine(root, ".ci", "install-test-tools")).Should().Contain("apt-get install -y --no-install-recommends \"${packages[@]}\"");
    }

    [Fact]
    public void The_workflow_is_valid_yaml_and_runs_the_readme_s_test_command_on_linux_windows_and_macos()
    {
        var root = DemoProcessTests.RepositoryRoot();
        var command = QuickStart().Match(File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n")).Groups["test"].Value.Trim();
        var yaml = new YamlDotNet.RepresentationModel.YamlStream();
        using (var reader = new StringReader(File.ReadAllText(Path.Combine(root, ".github", "workflows", "test.yml"))))
            yaml.Load(reader);

        var job = (YamlDotNet.RepresentationModel.YamlMappingNode)((YamlDotNet.RepresentationModel.YamlMappingNode)((YamlDotNet.RepresentationModel.YamlMappingNode)yaml.Documents[0].RootNode)["jobs"])["test"];
        var matrix = (YamlDotNet.RepresentationModel.YamlMappingNode)((YamlDotNet.RepresentationModel.YamlMappingNode)job["strategy"])["matrix"];
        ((YamlDotNet.RepresentationModel.YamlSequenceNode)matrix["os"]).Select(n => n.ToString()).Should().BeEquivalentTo("ubuntu-latest", "windows-latest", "macos-latest");
        ((YamlDotNet.RepresentationModel.YamlSequenceNode)job["steps"]).OfType<YamlDotNet.RepresentationModel.YamlMappingNode>()
            .Select(step => step.Children.TryGetValue(new YamlDotNet.RepresentationModel.YamlScalarNode("run"), out var run) ? run.ToString() : null)
            .Should().Contain(command, "the workflow runs the README's test command");
    }

    [Fact]
    public void Without_apt_get_or_brew_the_tool_installer_says_exactly_what_is_missing_and_fails_only_in_ci()
    {
        var root = DemoProcessTests.RepositoryRoot();
        var bin = Directory.CreateTempSubdirectory("leakassert-nopkg-");
        try
        {
            // A PATH with a shell and nothing else: no package manager, no go, no npm.
            foreach (var tool in (string[])["bash", "id", "mkdir"])
                File.CreateSymbolicLink(Path.Combine(bin.FullName, tool), Path.Combine("/usr/bin", tool));
            (int Code, string Error) Run(string ci)
            {
                var start = new System.Diagnostics.ProcessStartInfo(Path.Combine(bin.FullName, "bash"), Path.Combine(root, ".ci", "install-test-tools"))
                    { RedirectStandardError = true, RedirectStandardOutput = true };
                start.Environment["PATH"] = bin.FullName;
                start.Environment["CI"] = ci;
                start.Environment["LEAKASSERT_TEST_TOOLS"] = Path.Combine(bin.FullName, "tools");
                using var process = System.Diagnostics.Process.Start(start)!;
                var error = process.StandardError.ReadToEnd();
                process.WaitForExit();
                return (process.ExitCode, error);
            }

            var inCi = Run("true");
            var outside = Run("");

            inCi.Code.Should().Be(1, inCi.Error);
            inCi.Error.Should().MatchRegex("LeakAssert's tests need (go )?(chromium )?npm, which could not be installed: neither apt-get nor Homebrew \\(brew\\) is on PATH; install Go, Node.js \\(npm\\) and Chromium, Chrome or Edge\\.");
            outside.Code.Should().Be(0, outside.Error);
            outside.Error.Should().Contain("The tests that need it will be skipped with that reason.");
        }
        finally
        {
            bin.Delete(recursive: true);
        }
    }

    [GeneratedRegex(@"## Quick start.*?```bash\n[^\n]*\n(?<test>[^#\n]*)#", RegexOptions.Singleline)]
    private static partial Regex QuickStart();

    // The patterns match "\n" only: a checkout that gave the files CRLF reads the same.
    private static string ReadText(string path) => File.ReadAllText(path).ReplaceLineEndings("\n");

    private static string[] Lines(string text) => text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();

    [GeneratedRegex(@"<!-- snippet: (?<file>[^ ]+) -->\s*```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex Snippet();
}
