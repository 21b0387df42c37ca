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
        actual.ReplaceLineEndings("\n").Should().Be(File.ReadAllText(source).ReplaceLineEndings("\n"), $"the output matches Golden/{name}");
    }
}
