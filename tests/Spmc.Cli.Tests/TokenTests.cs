using Grpc.Core;
using Microsoft.AspNetCore.Hosting;
using Spmc.Client;

namespace Spmc.Cli.Tests;

/// <summary>The loopback server in mode tokens with an operator token (docs/security.md).</summary>
public sealed class TokenServer : LiveSpmc
{
    public const string OperatorToken = "operator-token-for-cli-tests-0123";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Spmc:Auth:Mode", "tokens");
        builder.UseSetting("Spmc:Auth:OperatorToken", OperatorToken);
    }

    public async Task<CliRun> RunAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await SpmcCli.RunAsync(args, stdout, stderr, GrpcUrl);
        return new CliRun(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs the CLI as the executable does with SPMC_TOKEN set to <paramref name="token"/>.</summary>
    public async Task<CliRun> RunWithEnvTokenAsync(string token, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await SpmcCli.RunAsync(args, stdout, stderr, GrpcUrl, default, token);
        return new CliRun(code, stdout.ToString(), stderr.ToString());
    }
}

/// <summary>The CLI and Spmc.Client against a service in mode tokens: the token printed at creation opens the system, and only it.</summary>
public sealed class TokenTests(TokenServer server) : IClassFixture<TokenServer>
{
    private static int _next;

    private async Task<(string Id, string Token)> Create(params string[] more)
    {
        var id = $"tok-{Interlocked.Increment(ref _next)}";
        var run = await server.RunAsync(["systems", "create", LiveSpmc.DefaultManifest, "--id", id, .. more]);
        Assert.Equal(0, run.Code);
        Assert.Equal(2, run.Lines.Length);
        Assert.StartsWith($"{id}  ffa 1.3", run.Lines[0]);
        Assert.StartsWith("token  ", run.Lines[1]);
        return (id, run.Lines[1]["token  ".Length..]);
    }

    [Fact]
    public async Task The_printed_token_opens_its_system_and_only_it()
    {
        var (id, token) = await Create();
        var (other, otherToken) = await Create();
        var anonymous = await server.RunAsync("systems", "state", id);
        Assert.Equal(SpmcCli.Failed, anonymous.Code);
        Assert.StartsWith("spmc: Unauthenticated: Authorization: a Bearer token is required", anonymous.Err);
        Assert.Equal(0, (await server.RunAsync("systems", "state", id, "--token", token)).Code);
        Assert.Equal(0, (await server.RunWithEnvTokenAsync(token, "mem", "read", id, "0x80000000", "4")).Code);
        var wrong = await server.RunAsync("systems", "state", id, "--token", otherToken);
        Assert.Equal($"spmc: PermissionDenied: the token is for system '{other}': system '{id}' needs its own token or the operator token\n", wrong.Err);
        var list = await server.RunAsync("systems", "list", "--token", token);
        Assert.Equal([id], list.Lines.Select(l => l.Split(' ')[0]));
        var all = await server.RunAsync("systems", "list", "--token", TokenServer.OperatorToken);
        Assert.Contains("default", all.Lines.Select(l => l.Split(' ')[0]));
        Assert.Equal(0, (await server.RunAsync("systems", "delete", id, "--token", token)).Code);
    }

    [Fact]
    public async Task Memory_as_the_spmc_needs_a_debug_token()
    {
        var (plain, plainToken) = await Create();
        var refused = await server.RunAsync("mem", "read", plain, "0x80000000", "4", "--as", "0x8000", "--token", plainToken);
        Assert.Equal(SpmcCli.Failed, refused.Code);
        Assert.Contains("PermissionDenied: acting as the SPMC on memory needs the debug capability", refused.Err);
        var (debug, debugToken) = await Create("--debug");
        Assert.Equal(0, (await server.RunAsync("mem", "read", debug, "0x80000000", "4", "--as", "0x8000", "--token", debugToken)).Code);
    }

    [Fact]
    public async Task The_client_keeps_the_token_of_the_systems_it_creates()
    {
        using var creator = new SpmcClient(server.GrpcUrl);
        var info = await creator.CreateSystemAsync(await File.ReadAllTextAsync(LiveSpmc.DefaultManifest));
        Assert.Equal(43, info.Token.Length);
        Assert.Equal(info.Token, creator.TokenFor(info.Id));
        Assert.Equal(info.Id, (await creator.GetStateAsync(info.Id)).Id);
        Assert.StartsWith("version 1.", (await creator.System(info.Id).VersionAsync(1, 2)).Decoded.Result);

        using var stranger = new SpmcClient(server.GrpcUrl);
        var e = await Assert.ThrowsAsync<SpmcException>(() => stranger.GetStateAsync(info.Id));
        Assert.Equal(StatusCode.Unauthenticated, e.Code);
        stranger.UseSystemToken(info.Id, info.Token);
        Assert.Equal(info.Id, (await stranger.GetStateAsync(info.Id)).Id);

        using var op = new SpmcClient(server.GrpcUrl, TokenServer.OperatorToken);
        Assert.Contains("default", (await op.ListSystemsAsync()).Select(s => s.Id));
        await creator.DeleteSystemAsync(info.Id);
        Assert.Null(creator.TokenFor(info.Id));
    }
}
