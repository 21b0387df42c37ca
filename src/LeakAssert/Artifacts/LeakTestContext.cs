namespace LeakAssert.Artifacts;

/// <summary>
/// Which leak test is running, set by the xUnit/NUnit adapters around a [LeakTest] so that a failing assertion in the
/// test body knows where its artifacts belong. An AsyncLocal: it flows into the test's awaits and no further.
/// </summary>
internal sealed record LeakTestContext(string ClassName, string MethodName, string? Arguments)
{
    private static readonly AsyncLocal<LeakTestContext?> current = new();

    /// <summary>The running leak test, or null outside one.</summary>
    public static LeakTestContext? Current => current.Value;

    /// <summary>The context of one test, or one data row of it (its arguments, culture-invariant, name the row).</summary>
    public static LeakTestContext For(string className, string methodName, object?[]? arguments) =>
        new(className, methodName, arguments is { Length: > 0 }
            ? string.Join(",", arguments.Select(a => Convert.ToString(a, System.Globalization.CultureInfo.InvariantCulture) ?? "null"))
            : null);

    /// <summary>Files written for this test so far (a test may assert more than once).</summary>
    public List<string> WrittenFiles { get; } = [];

    /// <summary>Makes <paramref name="context"/> current until the returned scope is disposed.</summary>
    public static IDisposable Enter(LeakTestContext context)
    {
        var previous = current.Value;
        current.Value = context;
        return new Scope(() => current.Value = previous);
    }

    /// <summary>"{Class}.{Method}" plus the data row's arguments, as the artifact folder and file prefix.</summary>
    public string TestName => Arguments is null ? $"{ClassName}.{MethodName}" : $"{ClassName}.{MethodName}({Arguments})";

    private sealed class Scope(Action exit) : IDisposable
    {
        public void Dispose() => exit();
    }
}
