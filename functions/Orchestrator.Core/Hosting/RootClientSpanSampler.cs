using System.Diagnostics;
using OpenTelemetry.Trace;

namespace Orchestrator.Core.Hosting;

/// <summary>
/// Samples every trace except one that a client span would start: the durable store's queue polling and the health
/// check's queries happen outside any request, and would otherwise be a trace per poll.
/// </summary>
internal sealed class RootClientSpanSampler : Sampler
{
    public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
        samplingParameters.ParentContext.TraceId == default && samplingParameters.Kind == ActivityKind.Client
            ? new SamplingResult(SamplingDecision.Drop)
            : new SamplingResult(SamplingDecision.RecordAndSample);
}
