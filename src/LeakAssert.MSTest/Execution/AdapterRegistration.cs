using System.Runtime.CompilerServices;
using LeakAssert.Testing;

namespace LeakAssert.MSTest.Execution;

/// <summary>Tells the core about this adapter as soon as the assembly loads, before any of its tests runs.</summary>
internal static class AdapterRegistration
{
#pragma warning disable CA2255 // The core must know the adapter's frames before the first trace is read; nothing else runs first reliably.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register() => LeakTestAdapters.Register(typeof(AdapterRegistration).Namespace!);
}
