namespace Spmc.Cli;

/// <summary>The `spmc` executable: <see cref="SpmcCli"/> on the console, Ctrl-C cancelling the command.</summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
        return await SpmcCli.RunAsync(args, Console.Out, Console.Error, Environment.GetEnvironmentVariable("SPMC_URL"), cancel.Token,
            Environment.GetEnvironmentVariable("SPMC_TOKEN"));
    }
}
