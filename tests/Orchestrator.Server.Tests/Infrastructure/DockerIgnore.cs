using System.Text.RegularExpressions;

namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>
/// Which paths of the build context a .dockerignore keeps out, by Docker's rules: patterns in order, the last one that
/// matches the path or one of its parent folders wins, <c>!</c> takes a path back in, <c>*</c> stays within a folder,
/// <c>**</c> crosses folders.
/// </summary>
internal sealed class DockerIgnore
{
    private readonly List<(Regex Pattern, bool Exception)> patterns;

    private DockerIgnore(IEnumerable<string> lines)
    {
        patterns = lines
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.StartsWith('!') ? (Compile(l[1..]), true) : (Compile(l), false))
            .ToList();
    }

    public static DockerIgnore Load(string path) => new(File.Exists(path) ? File.ReadAllLines(path) : []);

    /// <summary>Whether <paramref name="path"/> (relative to the context, with <c>/</c>) stays out of the context.</summary>
    public bool Excludes(string path)
    {
        path = path.Trim('/');
        var segments = path.Split('/');
        var parents = Enumerable.Range(1, segments.Length - 1).Select(n => string.Join('/', segments.Take(n))).ToList();
        var excluded = false;
        foreach (var (pattern, exception) in patterns)
        {
            if (pattern.IsMatch(path) || parents.Any(pattern.IsMatch))
            {
                excluded = !exception;
            }
        }

        return excluded;
    }

    private static Regex Compile(string pattern)
    {
        pattern = pattern.Trim().TrimStart('/');
        if (pattern.StartsWith("./", StringComparison.Ordinal))
        {
            pattern = pattern[2..];
        }

        pattern = pattern.TrimEnd('/');
        var regex = new System.Text.StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                var slash = i + 2 < pattern.Length && pattern[i + 2] == '/';
                regex.Append(slash ? "(.*/)?" : ".*");
                i += slash ? 2 : 1;
            }
            else
            {
                regex.Append(pattern[i] switch
                {
                    '*' => "[^/]*",
                    '?' => "[^/]",
                    var c => Regex.Escape(c.ToString()),
                });
            }
        }

        return new Regex(regex.Append('$').ToString(), RegexOptions.CultureInvariant);
    }
}
