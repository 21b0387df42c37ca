using System.Reflection;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace LeakAssert.MSTest.Execution;

/// <summary>
/// Whether MSTest may run another test beside a leak test, read from the attributes that decide it. A test method
/// attribute cannot take the test out of MSTest's parallel set, and a lock it took would not be respected by the other
/// tests, so a leak test that could run beside them fails instead of measuring their allocations.
/// </summary>
internal static class Parallelism
{
    /// <summary>The one sentence saying what to add, or null when MSTest runs <paramref name="method"/> alone.</summary>
    public static string? Problem(string name, MethodInfo method, Type type)
    {
        var parallelize = type.Assembly.GetCustomAttribute<ParallelizeAttribute>();
        // Without [Parallelize] MSTest runs the assembly's tests one at a time; [DoNotParallelize] puts a test, a class
        // or the assembly in the set MSTest runs after the parallel tests, one at a time.
        if (parallelize is null || parallelize.Workers == 1) return null;
        if (method.IsDefined(typeof(DoNotParallelizeAttribute)) || type.IsDefined(typeof(DoNotParallelizeAttribute), inherit: true)
            || type.Assembly.IsDefined(typeof(DoNotParallelizeAttribute)))
            return null;
        return $"{name}: the assembly runs tests in parallel ([Parallelize]), so other tests' allocations would be measured as this test's; add [DoNotParallelize] to the method or its class, or set [assembly: Parallelize(Workers = 1)].";
    }
}
