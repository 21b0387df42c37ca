using LeakAssert.Assertions;

namespace LeakAssert;

/// <summary>The <c>Should()</c> entry point for leak profiles.</summary>
public static class LeakProfileShouldExtensions
{
    /// <summary>Starts an assertion on <paramref name="profile"/>.</summary>
    public static LeakProfileAssertions Should(this LeakProfile profile) => new(profile);
}
