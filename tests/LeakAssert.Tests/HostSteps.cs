namespace LeakAssert.Tests;

internal static class HostSteps
{
    /// <summary>
    /// The retained growth less a one-off step the fit set aside (the report names it): the test host's own threads
    /// free or keep tens of kB once inside a window now and then (34 kB freed once, beside no other suite), which is the
    /// process's figure, not an error of the measurement a test checks to a few kB.
    /// </summary>
    public static long GrowthWithoutHostStep(this LeakProfile profile) =>
        profile.RetainedGrowth.Bytes - (profile.Growth.SetAside?.Bytes ?? 0);
}
