using Xunit.Abstractions;
using Xunit.Sdk;

namespace LeakAssert.Xunit.Execution;

/// <summary>
/// Turns a [LeakTest] method into test cases in the leak-test collection: one per data row when the method takes
/// arguments. A bad attribute argument becomes a test that fails with one sentence, not a crashed run.
/// </summary>
internal sealed class LeakTestDiscoverer(IMessageSink diagnosticMessageSink) : IXunitTestCaseDiscoverer
{
    /// <inheritdoc />
    public IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        var display = discoveryOptions.MethodDisplayOrDefault();
        var displayOptions = discoveryOptions.MethodDisplayOptionsOrDefault();
        var moved = LeakTestCollection.Move(testMethod);
        var name = $"[LeakTest] on {testMethod.TestClass.Class.Name}.{testMethod.Method.Name}";

        IXunitTestCase Error(string message) => new ExecutionErrorTestCase(diagnosticMessageSink, display, displayOptions, moved, message);

        if (factAttribute is not IReflectionAttributeInfo { Attribute: LeakTestAttribute attribute })
            return [Error($"{name} could not be read by reflection, which LeakAssert needs to run it.")];
        if (factAttribute.GetNamedArgument<string>(nameof(LeakTestAttribute.Skip)) is { Length: > 0 })
            return [new LeakTestCase(diagnosticMessageSink, display, displayOptions, moved)];
        if (attribute.Settings.Problem(name) is { } problem)
            return [Error(problem)];
        if (testMethod.Method.ToRuntimeMethod() is { } runtime && attribute.Settings.BodyProblem(name, runtime) is { } bodyProblem)
            return [Error(bodyProblem)];
        if (testMethod.Method.IsGenericMethodDefinition)
            return [Error($"{name}: generic test methods are not supported; make the method non-generic.")];

        var parameters = testMethod.Method.GetParameters().Count();
        var dataAttributes = testMethod.Method.GetCustomAttributes(typeof(DataAttribute)).ToArray();
        if (parameters == 0)
            return dataAttributes.Length == 0
                ? [new LeakTestCase(diagnosticMessageSink, display, displayOptions, moved)]
                : [Error($"{name}: the method takes no parameters, so its data attributes have nothing to fill; remove them or add parameters.")];
        if (dataAttributes.Length == 0)
            return [Error($"{name}: the method takes {parameters} parameter(s) but has no data; add [InlineData], [MemberData] or [ClassData] for one leak test per row.")];

        var cases = new List<IXunitTestCase>();
        foreach (var data in dataAttributes)
        {
            var discovererAttribute = data.GetCustomAttributes(typeof(DataDiscovererAttribute)).First();
            var discoverer = ExtensibilityPointFactory.GetDataDiscoverer(diagnosticMessageSink, discovererAttribute);
            if (!discoverer.SupportsDiscoveryEnumeration(data, testMethod.Method))
                return [Error($"{name}: its data cannot be enumerated at discovery; LeakAssert needs every row up front to make each its own leak test.")];
            foreach (var row in discoverer.GetData(data, testMethod.Method) ?? [])
            {
                if (!row.All(SerializationHelper.IsSerializable))
                    return [Error($"{name}: a data row holds a value xunit cannot serialize ({string.Join(", ", row.Select(v => v?.GetType().Name ?? "null"))}); use primitives, strings or IXunitSerializable values.")];
                cases.Add(new LeakTestCase(diagnosticMessageSink, display, displayOptions, moved, row));
            }
        }
        return cases.Count > 0 ? cases : [Error($"{name}: its data attributes produced no rows.")];
    }
}
