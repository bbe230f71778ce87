namespace Orchestrator.Functions.Tests;

/// <summary>The Functions app's build output, as the Functions host loads it (same configuration as the tests).</summary>
internal static class FunctionsBuild
{
    public static string Output =>
        Path.Combine(RepositoryRoot, "functions", "Orchestrator.Functions", "bin", new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name, "net10.0");

    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Orchestrator.Functions.sln")))
            {
                dir = dir.Parent;
            }

            return dir!.FullName;
        }
    }
}
