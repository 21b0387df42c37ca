using System.Reflection;
using LeakAssert.Artifacts;
using LeakAssert.Measurement;

namespace LeakAssert.Testing;

/// <summary>What an adapter does with a leak test's evidence: attach a written file to the result, write a line of output.</summary>
internal interface ILeakTestHost
{
    /// <summary>Attaches <paramref name="file"/> to the test's result; may throw for I/O, which is then written as a line instead.</summary>
    void Attach(ArtifactFile file);

    /// <summary>Writes a line to the test's output.</summary>
    void WriteLine(string line);
}

/// <summary>
/// One leak test from "the framework calls us" to "the framework reports": the settings' checks, the running test's
/// recorder and isolation marker, the run (the body as the workload, or a body that calls Leak.Profile itself and must
/// have measured something), the verdict and its message, and the artifacts handed to the adapter's host. The
/// adapter isolates the test before calling this, and turns the outcome into its framework's result.
/// </summary>
internal sealed class LeakTestRun(LeakTestSettings settings, string name, MethodInfo method, LeakTestContext test, ILeakTestHost host)
{
    /// <summary>"[LeakTestMethod] on Class.Method", as every one-sentence failure of a leak test begins.</summary>
    public static string NameOf(string attribute, string className, string methodName) => $"[{attribute}] on {className}.{methodName}";

    /// <summary>Why the test cannot run (one sentence), or null: the attribute's arguments, then the method's shape.</summary>
    public string? Problem => settings.Problem(name) ?? settings.BodyProblem(name, method);

    /// <summary>
    /// Runs the test. <paramref name="workload"/> makes the body the workload (called only when a bound is set);
    /// <paramref name="frameworkBody"/> runs the body as the framework would and says whether it passed. Returns null
    /// when the test passed, else LeakAssert's failure message; an exception of the body propagates.
    /// </summary>
    public async Task<string?> RunAsync(Func<Workload> workload, Func<Task<bool>> frameworkBody, CancellationToken cancellation)
    {
        if (Problem is { } problem) return problem;
        try
        {
            using var scope = LeakTestContext.Enter(test);
            using var cancel = Runner.CancelWith(cancellation);
            LeakTestSettings.PrepareProcess();
            if (settings.BodyIsWorkload) return await settings.RunBodyAsync(workload(), test).ConfigureAwait(false);
            // A body that passed without measuring anything fails: it would pass whatever it leaks.
            return await frameworkBody().ConfigureAwait(false) ? settings.NothingMeasured(name, test) : null;
        }
        finally
        {
            Attach();
        }
    }

    // The failure message names the files; the result carries them too, and the output lists where they are. A file
    // that cannot be attached is named in the output: attaching never changes the test's outcome.
    private void Attach()
    {
        foreach (var file in test.Written)
        {
            host.WriteLine($"LeakAssert {file.Kind.Description}: {file.Path}");
            try
            {
                host.Attach(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
            {
                host.WriteLine($"LeakAssert could not attach {file.Path}: {e.Message}");
            }
        }
    }
}
