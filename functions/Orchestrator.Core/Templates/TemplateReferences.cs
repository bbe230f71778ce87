using Fluid.Ast;

namespace Orchestrator.Core.Templates;

/// <summary>Finds the variables a template reads (as member paths) and the names it declares itself.</summary>
public sealed class TemplateReferences : AstVisitor
{
    private readonly List<IReadOnlyList<string>> paths = [];
    private readonly HashSet<string> filters = new(StringComparer.Ordinal);
    private readonly HashSet<string> locals = new(StringComparer.Ordinal) { "forloop", "tablerowloop", "empty", "blank", "nil", "null", "true", "false" };

    public IReadOnlyList<IReadOnlyList<string>> Paths => paths;

    public IReadOnlySet<string> Locals => locals;

    /// <summary>The names of the filters the template applies.</summary>
    public IReadOnlySet<string> Filters => filters;

    public static TemplateReferences Of(Fluid.IFluidTemplate template)
    {
        var visitor = new TemplateReferences();
        if (template is Fluid.Parser.FluidTemplate fluid)
        {
            foreach (var statement in fluid.Statements)
            {
                visitor.Visit(statement);
            }
        }

        return visitor;
    }

    protected override Expression VisitMemberExpression(MemberExpression memberExpression)
    {
        var path = new List<string>();
        foreach (var segment in memberExpression.Segments)
        {
            if (segment is IdentifierSegment identifier)
            {
                path.Add(identifier.Identifier);
            }
            else
            {
                break;
            }
        }

        if (path.Count > 0)
        {
            paths.Add(path);
        }

        return base.VisitMemberExpression(memberExpression);
    }

    protected override Expression VisitFilterExpression(FilterExpression filterExpression)
    {
        // The input first, so the names come in the order they are written.
        var visited = base.VisitFilterExpression(filterExpression);
        filters.Add(filterExpression.Name);
        return visited;
    }

    protected override Statement VisitForStatement(ForStatement forStatement)
    {
        locals.Add(forStatement.Identifier);
        return base.VisitForStatement(forStatement);
    }

    protected override Statement VisitTableRowStatement(TableRowStatement tableRowStatement)
    {
        locals.Add(tableRowStatement.Identifier);
        return base.VisitTableRowStatement(tableRowStatement);
    }

    protected override Statement VisitAssignStatement(AssignStatement assignStatement)
    {
        locals.Add(assignStatement.Identifier);
        return base.VisitAssignStatement(assignStatement);
    }

    protected override Statement VisitCaptureStatement(CaptureStatement captureStatement)
    {
        locals.Add(captureStatement.Identifier);
        return base.VisitCaptureStatement(captureStatement);
    }
}
