using Microsoft.AspNetCore.Hosting;

namespace Spmc.Clients.Tests;

/// <summary>The loopback server in mode tokens.</summary>
public sealed class TokenSpmc : LiveSpmc
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Spmc:Auth:Mode", "tokens");
    }
}

/// <summary>The Python client's token= argument and the token it keeps from create_system.</summary>
[Collection(PythonCollection.Name)]
public sealed class PythonTokenTests(TokenSpmc spmc, PythonClient python) : IClassFixture<TokenSpmc>
{
    [Fact]
    public async Task The_client_uses_the_token_its_creation_answered_and_token_argument()
    {
        var run = await python.RunAsync("-c", $$"""
            import json
            from spmc_client import Spmc, SpmcError
            manifest = open("{{LiveSpmc.DefaultManifest}}").read()
            owner = Spmc("{{spmc.GrpcTarget}}")
            info = owner.create_system(manifest=manifest)
            print("token", len(info.token))
            print("state", owner.state(info.id).id == info.id)
            try:
                Spmc("{{spmc.GrpcTarget}}").state(info.id)
            except SpmcError as e:
                print("anonymous", e.code)
            print("given", Spmc("{{spmc.GrpcTarget}}", token=info.token).state(info.id).id == info.id)
            try:
                owner.read_memory(info.id, 0x80000000, 4, as_endpoint=0x8000)
            except SpmcError as e:
                print("as spmc", e.code, "debug capability" in e.message)
            owner.delete_system(info.id)
            print("kept", info.id in owner.tokens)
            """);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(["token 43", "state True", "anonymous Unauthenticated", "given True", "as spmc PermissionDenied True", "kept False"],
            run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }
}
