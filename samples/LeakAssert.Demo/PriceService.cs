namespace LeakAssert.Demo;

/// <summary>A quote as a request handler builds it.</summary>
public sealed record Quote(string Symbol, decimal Price, byte[] Payload);

/// <summary>
/// The leak users meet most: a static "audit" list that every request appends to and nothing ever trims.
/// </summary>
public sealed class LeakyPriceService
{
    private static readonly List<Quote> Audit = [];
    private int _next;

    public Quote Handle(string symbol)
    {
        var quote = new Quote(symbol, 100m + _next++ % 7, new byte[1024]);
        Audit.Add(quote);
        return quote;
    }
}

/// <summary>The fix: a bounded ring of the last 64 quotes. It fills once and then stays the same size.</summary>
public sealed class FixedPriceService
{
    private readonly Quote?[] _recent = new Quote?[64];
    private int _next;

    public Quote Handle(string symbol)
    {
        var quote = new Quote(symbol, 100m + _next % 7, new byte[1024]);
        _recent[_next++ % _recent.Length] = quote;
        return quote;
    }
}
