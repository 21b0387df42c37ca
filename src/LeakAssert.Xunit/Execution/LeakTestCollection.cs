using System.Security.Cryptography;
using System.Text;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace LeakAssert.Xunit.Execution;

/// <summary>
/// The collection every [LeakTest] of an assembly is moved into. xunit runs collections whose definition disables
/// parallelization one at a time, after all parallel collections have finished: while a leak test measures, no other
/// test of the run executes in the process. The user adds nothing but [LeakTest].
/// </summary>
[CollectionDefinition(DisplayName, DisableParallelization = true)]
internal sealed class LeakTestCollection
{
    internal const string DisplayName = "LeakAssert leak tests (run alone)";

    /// <summary>The assembly's leak-test collection; the same id for every test so that xunit groups them into one.</summary>
    internal static ITestCollection For(ITestAssembly assembly)
    {
        var id = new Guid(SHA256.HashData(Encoding.UTF8.GetBytes("LeakAssert:" + assembly.Assembly.Name)).AsSpan(0, 16));
        return new TestCollection(assembly, Reflector.Wrap(typeof(LeakTestCollection)), DisplayName, id);
    }

    /// <summary>The same method and class, moved into the leak-test collection.</summary>
    internal static ITestMethod Move(ITestMethod method) =>
        new TestMethod(new TestClass(For(method.TestClass.TestCollection.TestAssembly), method.TestClass.Class), method.Method);
}
