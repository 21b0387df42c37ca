namespace NUnitSample;

/// <summary>A user session with a timer that refreshes its token.</summary>
public sealed class Session : IDisposable
{
    private readonly Timer _refresh;
    private readonly byte[] _token = new byte[2048];

    public Session() => _refresh = new Timer(Refresh, null, TimeSpan.FromHours(1), TimeSpan.FromHours(1));

    private void Refresh(object? state) => _token[0]++;

    public void Dispose() => _refresh.Dispose();
}

/// <summary>
/// A timer leak: the runtime's timer queue holds every active timer, each timer holds its callback, and the callback
/// holds its session, so a session that is never disposed is never collected.
/// </summary>
public static class LeakySessions
{
    public static void SignIn() => _ = new Session();
}

/// <summary>The fix: a session lives for one request and is disposed with it.</summary>
public static class Sessions
{
    public static void SignIn()
    {
        using var session = new Session();
    }
}
