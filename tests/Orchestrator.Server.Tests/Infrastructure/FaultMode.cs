namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>What a <see cref="FaultProxy"/> does with connections and bytes.</summary>
public enum FaultMode
{
    /// <summary>Forwards both ways.</summary>
    Pass,

    /// <summary>Delivers nothing and closes nothing, like a network partition.</summary>
    BlackHole,

    /// <summary>Not listening: connects are refused.</summary>
    Refuse,
}
