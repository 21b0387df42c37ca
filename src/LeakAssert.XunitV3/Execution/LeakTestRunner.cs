using System.Diagnostics;
using System.Reflection;
using LeakAssert.Artifacts;
using LeakAssert.Measurement;
using LeakAssert.Testing;
using Xunit;
using Xunit.v3;

namespace LeakAssert.XunitV3.Execution;

/// <summary>
/// Runs one leak test with its <see cref="LeakTestContext"/> current, so a failing assertion writes its artifacts, and
/// attaches those files to the result. With a bound on the attribute the body becomes the workload: the instance xunit
/// made serves every iteration (its constructor and before/after attributes run once), the verdict is decided here.
/// </summary>
internal sealed class LeakTestRunner : XunitTestRunner
{
    public static new LeakTestRunner Instance { get; } = new();

    protected override async ValueTask<TimeSpan> InvokeTest(XunitTestRunnerContext ctxt, object? testClassInstance)
    {
        var method = ctxt.Test.TestMethod.Method;
        var arguments = ctxt.Test.TestMethodArguments;
        var context = LeakTestContext.For(ctxt.Test.TestMethod.TestClass.Class.Name, method.Name, arguments);
        using var scope = LeakTestContext.Enter(context);
        // Cancelled by xunit's Timeout and by a cancelled run: the measurement gives up too.
        using var cancel = Runner.CancelWith(TestContext.Current.CancellationToken);
        try
        {
            LeakTestSettings.PrepareProcess();
            var settings = method.GetCustomAttribute<LeakTestAttribute>()!.Settings;
            if (!settings.BodyIsWorkload)
            {
                var time = await base.InvokeTest(ctxt, testClassInstance);
                // A body that passed without measuring anything fails: it would pass whatever it leaks.
                if (!ctxt.Aggregator.HasExceptions && settings.NothingMeasured($"[LeakTest] on {ctxt.Test.TestMethod.TestClass.Class.Name}.{method.Name}", context) is { } nothing)
                    ctxt.Aggregator.Add(new LeakTestFailedException(nothing));
                return time;
            }

            var elapsed = Stopwatch.StartNew();
            await ctxt.Aggregator.RunAsync(async () =>
            {
                var failure = await settings.RunBodyAsync(Workload.OfTestMethod(method, testClassInstance, arguments), context);
                if (failure is not null) throw new LeakTestFailedException(failure);
            });
            return elapsed.Elapsed;
        }
        finally
        {
            Attach(context);
        }
    }

    // The failure message names the files; the result carries them too, and the output lists where they are. A file
    // that cannot be attached is named in the output: attaching never changes the test's outcome.
    private static void Attach(LeakTestContext context)
    {
        foreach (var file in context.Written)
        {
            TestContext.Current.TestOutputHelper?.WriteLine($"LeakAssert {file.Kind.Description}: {file.Path}");
            try
            {
                TestContext.Current.AddAttachment(AttachmentName(file), File.ReadAllBytes(file.Path), MediaType(file.Path));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
            {
                TestContext.Current.TestOutputHelper?.WriteLine($"LeakAssert could not attach {file.Path}: {e.Message}");
            }
        }
    }

    // Runners add the media type's extension to the name (VSTest's writes "{name}.txt"), so the name leaves it out;
    // the two reports would then share a name, which an attachment may not.
    private static string AttachmentName(ArtifactFile file) =>
        Path.GetFileNameWithoutExtension(file.Path) + (file.Kind == ArtifactKind.HtmlReport ? "-html" : "");

    private static string MediaType(string path) => Path.GetExtension(path) switch
    {
        ".txt" => "text/plain",
        ".html" => "text/html",
        ".json" => "application/json",
        ".gz" => "application/gzip",
        _ => "application/octet-stream",
    };
}
