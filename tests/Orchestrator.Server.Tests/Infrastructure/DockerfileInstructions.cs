using System.Text.Json;
using System.Text.RegularExpressions;

namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>
/// A Dockerfile read the way the builder reads it, line by line: comments dropped, continuations joined, each
/// instruction numbered by the build stage (FROM) it belongs to.
/// </summary>
internal sealed class DockerfileInstructions
{
    private DockerfileInstructions(List<Instruction> instructions) => All = instructions;

    /// <summary>One instruction: its stage (0 for the first FROM), keyword (upper case), arguments and first line.</summary>
    public sealed record Instruction(int Stage, string Keyword, string Arguments, int Line)
    {
        /// <summary>The arguments without their leading <c>--flag=value</c> options, and those options.</summary>
        public (IReadOnlyDictionary<string, string> Flags, string Body) Options()
        {
            var flags = new Dictionary<string, string>(StringComparer.Ordinal);
            var rest = Arguments;
            while (Regex.Match(rest, @"^--([a-z-]+)(?:=(\S*))?\s+") is { Success: true } flag)
            {
                flags[flag.Groups[1].Value] = flag.Groups[2].Value;
                rest = rest[flag.Length..];
            }

            return (flags, rest.Trim());
        }

        /// <summary>The exec (JSON array) form of CMD, ENTRYPOINT or HEALTHCHECK CMD; null for the shell form.</summary>
        public string[]? ExecForm()
        {
            var rest = Options().Body;
            if (Keyword == "HEALTHCHECK")
            {
                rest = Regex.Replace(rest, "^CMD\\s+", string.Empty);
            }

            if (!rest.StartsWith('['))
            {
                return null;
            }

            return JsonSerializer.Deserialize<string[]>(rest);
        }
    }

    public IReadOnlyList<Instruction> All { get; }

    public int FinalStage => All.Max(i => i.Stage);

    public IEnumerable<Instruction> Where(string keyword, int? stage = null) =>
        All.Where(i => i.Keyword == keyword && (stage is null || i.Stage == stage));

    /// <summary>The stage named <c>AS name</c>.</summary>
    public int Stage(string name) =>
        Where("FROM").Single(i => Regex.IsMatch(i.Arguments, $@"\s+AS\s+{Regex.Escape(name)}$", RegexOptions.IgnoreCase)).Stage;

    /// <summary>The variables ENV sets in <paramref name="stage"/> (both <c>ENV K=V ...</c> and <c>ENV K V</c>).</summary>
    public IReadOnlyDictionary<string, string> Env(int stage)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var instruction in Where("ENV", stage))
        {
            var pairs = Regex.Matches(instruction.Arguments, @"([A-Za-z_][A-Za-z0-9_]*)=(""[^""]*""|\S*)");
            if (pairs.Count == 0 && instruction.Arguments.Split(' ', 2) is [var key, var value])
            {
                env[key] = value.Trim();
            }

            foreach (Match pair in pairs)
            {
                env[pair.Groups[1].Value] = pair.Groups[2].Value.Trim('"');
            }
        }

        return env;
    }

    public static DockerfileInstructions Load(string path)
    {
        var instructions = new List<Instruction>();
        var stage = -1;
        var pending = string.Empty;
        var start = 0;
        var lines = File.ReadAllLines(path);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (pending.Length == 0)
            {
                start = i + 1;
            }

            if (line.EndsWith('\\'))
            {
                pending += line[..^1].Trim() + " ";
                continue;
            }

            line = pending + line;
            pending = string.Empty;
            var parts = line.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries);
            var keyword = parts[0].ToUpperInvariant();
            if (keyword == "FROM")
            {
                stage++;
            }

            instructions.Add(new Instruction(stage, keyword, parts.Length > 1 ? parts[1].Trim() : string.Empty, start));
        }

        return new DockerfileInstructions(instructions);
    }
}
