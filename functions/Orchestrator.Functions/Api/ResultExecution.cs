using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;

namespace Orchestrator.Functions.Api;

/// <summary>Writes a Core handler's <see cref="IResult"/> to the function's ASP.NET Core response.</summary>
public static class ResultExecution
{
    public static async Task<IActionResult> ExecuteAsync(this Task<IResult> pending, HttpRequest request)
    {
        var result = await pending;
        await result.ExecuteAsync(request.HttpContext);
        return new EmptyResult();
    }
}
