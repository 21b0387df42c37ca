using Xunit;
using Xunit.Sdk;
using Xunit.v3;

namespace LeakAssert.XunitV3.Execution;

/// <summary>
/// Turns a [LeakTest] method into test cases in the leak-test collection: one per data row when the method takes
/// arguments. A bad attribute argument becomes a test that fails with one sentence, not a crashed run.
/// </summary>
internal sealed class LeakTestDiscoverer : IXunitTestCaseDiscoverer
{
    // xunit runs a collection that disables parallelization alone, after the parallel ones: while a leak test
    // measures, no other test of the run executes in the process. One name, so every leak test shares it.
    internal const string CollectionName = "LeakAssert leak tests (run alone)";

    /// <inheritdoc />
    public async ValueTask<IReadOnlyCollection<IXunitTestCase>> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, IXunitTestMethod testMethod,
        IFactAttribute factAttribute)
    {
        var collection = new XunitTestCollection(testMethod.TestClass.TestCollection.TestAssembly, collectionDefinition: null,
            disableParallelization: true, CollectionName);
        var moved = new XunitTestMethod(new XunitTestClass(testMethod.TestClass.Class, collection), testMethod.Method, testMethod.TestMethodArguments);
        var name = $"[LeakTest] on {testMethod.TestClass.Class.Name}.{testMethod.MethodName}";

        IXunitTestCase Error(string message)
        {
            var details = TestIntrospectionHelper.GetTestCaseDetails(discoveryOptions, moved, factAttribute);
            var error = new ExecutionErrorTestCase(details.ResolvedTestMethod, details.TestCaseDisplayName, details.UniqueID, details.SourceFilePath,
                details.SourceLineNumber, message);
            // The method's traits, which xunit's error case leaves out: a filter that selects the test still shows why it cannot run.
            foreach (var (trait, values) in MethodTraits(moved)) error.Traits[trait] = values;
            return error;
        }

        IXunitTestCase Case(object?[]? arguments = null, ITheoryDataRow? row = null)
        {
            var details = TestIntrospectionHelper.GetTestCaseDetails(discoveryOptions, moved, factAttribute, arguments, row?.Timeout, row?.TestDisplayName, row?.Label);
            var traits = row is null ? MethodTraits(moved) : TestIntrospectionHelper.GetTraits(moved, row);
            return new LeakTestCase(details.ResolvedTestMethod, details.TestCaseDisplayName, details.UniqueID, details.Explicit, details.SkipExceptions,
                details.SkipReason, details.SkipType, details.SkipUnless, details.SkipWhen, traits, arguments, details.SourceFilePath,
                details.SourceLineNumber, details.Timeout);
        }

        if (factAttribute is not LeakTestAttribute attribute)
            return [Error($"{name} is not a LeakAssert.XunitV3.LeakTestAttribute, which this discoverer serves.")];
        if (attribute.Skip is { Length: > 0 } && attribute.SkipUnless is null && attribute.SkipWhen is null)
            return [Case()];
        if (attribute.Settings.Problem(name) is { } problem)
            return [Error(problem)];
        if (attribute.Settings.BodyProblem(name, testMethod.Method) is { } bodyProblem)
            return [Error(bodyProblem)];
        if (testMethod.IsGenericMethodDefinition)
            return [Error($"{name}: generic test methods are not supported; make the method non-generic.")];

        var parameters = testMethod.Parameters.Count;
        var dataAttributes = testMethod.DataAttributes;
        if (parameters == 0)
            return dataAttributes.Count == 0
                ? [Case()]
                : [Error($"{name}: the method takes no parameters, so its data attributes have nothing to fill; remove them or add parameters.")];
        if (dataAttributes.Count == 0)
            return [Error($"{name}: the method takes {parameters} parameter(s) but has no data; add [InlineData], [MemberData] or [ClassData] for one leak test per row.")];

        var cases = new List<IXunitTestCase>();
        var disposal = new DisposalTracker();
        try
        {
            foreach (var data in dataAttributes)
            {
                if (!data.SupportsDiscoveryEnumeration())
                    return [Error($"{name}: its data cannot be enumerated at discovery; LeakAssert needs every row up front to make each its own leak test.")];
                foreach (var row in await data.GetData(testMethod.Method, disposal) ?? [])
                {
                    var arguments = moved.ResolveMethodArguments(row.GetData());
                    if (!arguments.All(a => a is null || SerializationHelper.Instance.IsSerializable(a, a.GetType())))
                        return [Error($"{name}: a data row holds a value xunit cannot serialize ({string.Join(", ", arguments.Select(v => v?.GetType().Name ?? "null"))}); use primitives, strings or IXunitSerializable values.")];
                    cases.Add(Case(arguments, row));
                }
            }
        }
        finally
        {
            await disposal.DisposeAsync();
        }
        return cases.Count > 0 ? cases : [Error($"{name}: its data attributes produced no rows.")];
    }

    private static Dictionary<string, HashSet<string>> MethodTraits(IXunitTestMethod method) =>
        method.Traits.ToDictionary(t => t.Key, t => new HashSet<string>(t.Value, StringComparer.OrdinalIgnoreCase), StringComparer.OrdinalIgnoreCase);
}
