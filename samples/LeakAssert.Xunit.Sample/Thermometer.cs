namespace XunitSample;

/// <summary>A sensor that raises an event for every reading.</summary>
public sealed class Thermometer
{
    public event Action<double>? Reading;

    public void Publish(double celsius) => Reading?.Invoke(celsius);
}

/// <summary>
/// The classic event-subscription leak: each display subscribes to a long-lived thermometer and never unsubscribes,
/// so the thermometer's delegate list keeps every display (and its history buffer) alive.
/// </summary>
public sealed class LeakyDisplay
{
    private readonly double[] _history = new double[128];

    public LeakyDisplay(Thermometer thermometer) => thermometer.Reading += Show;

    private void Show(double celsius) => _history[0] = celsius;
}

/// <summary>The fix: the display unsubscribes when disposed.</summary>
public sealed class Display : IDisposable
{
    private readonly Thermometer _thermometer;
    private readonly double[] _history = new double[128];

    public Display(Thermometer thermometer)
    {
        _thermometer = thermometer;
        thermometer.Reading += Show;
    }

    private void Show(double celsius) => _history[0] = celsius;

    public void Dispose() => _thermometer.Reading -= Show;
}
