using Spmc.Server.Security;

namespace Spmc.Server.Tests.Security;

/// <summary>The token records: issued at random, kept as hashes, verified, removed, exported and imported as plain data.</summary>
public sealed class SystemTokensTests
{
    [Fact]
    public void Issue_verify_remove()
    {
        var tokens = new SystemTokens();
        var changes = new List<TokenChange>();
        tokens.Changed += changes.Add;
        var a = tokens.Issue("a", "ip:192.0.2.1", debug: false);
        var b = tokens.Issue("b", "ip:192.0.2.1", debug: true);
        Assert.NotEqual(a, b);
        Assert.Equal(43, a.Length);
        Assert.True(tokens.Verify("a", a));
        Assert.False(tokens.Verify("a", b));
        Assert.False(tokens.Verify("c", a));
        Assert.Equal(2, tokens.CountFor("ip:192.0.2.1"));
        Assert.DoesNotContain(tokens.Export(), r => r.Sha256Hex.Contains(a, StringComparison.Ordinal));
        Assert.True(tokens.Remove("a"));
        Assert.False(tokens.Verify("a", a));
        Assert.Equal(1, tokens.CountFor("ip:192.0.2.1"));
        Assert.Equal([false, false, true], changes.Select(c => c.Removed));
    }

    [Fact]
    public void Export_and_import_carry_the_tokens_over()
    {
        var first = new SystemTokens();
        var token = first.Issue("kept", "token:ci", debug: true);
        var second = new SystemTokens();
        second.Import(first.Export());
        Assert.True(second.Verify("kept", token));
        Assert.Equal(new TokenRecord("kept", first.Export()[0].Sha256Hex, "token:ci", true), second.Export().Single());
        Assert.Throws<ArgumentException>(() => second.Import([new TokenRecord("x", "not-hex", "ip:1.2.3.4", false)]));
    }

    [Fact]
    public void A_new_token_for_the_same_id_replaces_the_old()
    {
        var tokens = new SystemTokens();
        var old = tokens.Issue("s", "ip:192.0.2.1", false);
        var fresh = tokens.Issue("s", "ip:192.0.2.1", false);
        Assert.False(tokens.Verify("s", old));
        Assert.True(tokens.Verify("s", fresh));
        Assert.Null(tokens.Find(AuthSettings.Hash(old)));
        Assert.Single(tokens.Export());
    }
}
