namespace Orchestrator.Core.Metrics;

/// <summary>This process's Npgsql pool at one moment: connections idle and busy, its maximum, requests waiting, and acquire timeouts since start.</summary>
public sealed record PoolSample(double Idle, double Busy, double Max, double Pending, double Timeouts);
