namespace LeakAssert.Tests;

/// <summary>
/// Compares text with a file under Golden/. Run with LEAKASSERT_UPDATE_GOLDEN=1 to rewrite the files after an
/// intended format change, then read the diff before committing.
/// </summary>
internal static class Golden
{
    public static void Verify(string name, string actual)
    {
        var source = Path.Combine(DemoProcessTests.RepositoryRoot(), "tests", "LeakAssert.Tests", "Golden", name);
        if (Environment.GetEnvironmentVariable("LEAKASSERT_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(source, actual);
            return;
        }
        File.Exists(source).Should().BeTrue($"the golden file {name} exists (LEAKASSERT_UPDATE_GOLDEN=1 writes it)");
        Matches(source, actual, $"Golden/{name}");
    }

    /// <summary>The comparison: line endings on either side do not count (a checkout may have given the file CRLF).</summary>
    internal static void Matches(string file, string actual, string name) =>
        actual.ReplaceLineEndings("\n").Should().Be(File.ReadAllText(file).ReplaceLineEndings("\n"), $"the output matches {name}");
}
