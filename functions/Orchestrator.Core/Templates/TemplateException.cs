namespace Orchestrator.Core.Templates;

/// <summary>A template failed to parse or render (also raised when a sandbox limit is hit).</summary>
public sealed class TemplateException : Exception
{
    public TemplateException(string message) : base(message) { }

    public TemplateException(string message, Exception inner) : base(message, inner) { }

    public TemplateException() { }
}
