using System.Text;
using Microsoft.AspNetCore.Http;
using Orchestrator.Core.Api;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Core.Tests.Api;

public sealed class RequestBodiesTests
{
    [Theory]
    [InlineData(null, "{}", null)]
    [InlineData("application/json", "{}", null)]
    [InlineData("application/json; charset=utf-8", "{}", null)]
    [InlineData("Application/JSON; charset=UTF-8", "{}", null)]
    [InlineData("application/problem+json", "{}", null)]
    [InlineData("text/json", "{}", null)]
    [InlineData("application/x-www-form-urlencoded", "{}", 415)]
    [InlineData("text/plain", "{}", 415)]
    [InlineData("application/json; charset=utf-16", "{}", 415)]
    [InlineData("*/*", "{}", 415)]
    [InlineData(";;;", "{}", 415)]
    [InlineData("application/x-www-form-urlencoded", "", null)]
    [InlineData(null, "", null)]
    public async Task A_declared_content_type_must_be_json_when_there_is_a_body(string? contentType, string body, int? expected)
    {
        var (_, problem) = await RequestBodies.ReadJsonAsync(Request(Encoding.UTF8.GetBytes(body), contentType), 4096, required: false, default);

        Assert.Equal(expected, (problem as IStatusCodeHttpResult)?.StatusCode);
    }

    public static TheoryData<string, byte[]> BadBodies => new()
    {
        { "invalid UTF-8", [(byte)'{', (byte)'"', (byte)'a', (byte)'"', (byte)':', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)'}'] },
        { "overlong UTF-8", [(byte)'"', 0xC0, 0xAF, (byte)'"'] },
        { "duplicate key", Encoding.UTF8.GetBytes("{\"reason\":\"a\",\"reason\":\"b\"}") },
        { "unpaired surrogate in a value", Encoding.UTF8.GetBytes("{\"reason\":\"\\ud800\"}") },
        { "unpaired surrogate in a key", Encoding.UTF8.GetBytes("{\"\\udc00\":1}") },
        { "U+0000", Encoding.UTF8.GetBytes("{\"input\":{\"text\":\"a\\u0000b\"}}") },
        { "too deep", Encoding.UTF8.GetBytes(new string('[', 65) + new string(']', 65)) },
        { "trailing garbage", Encoding.UTF8.GetBytes("{} x") },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task A_body_that_is_not_storable_json_is_a_400_at_read_time(string why, byte[] body)
    {
        var (node, problem) = await RequestBodies.ReadJsonAsync(Request(body, "application/json"), 4096, required: false, default);

        Assert.True(problem is IStatusCodeHttpResult { StatusCode: 400 }, why);
        Assert.Null(node);
    }

    [Fact]
    public async Task A_byte_order_mark_is_skipped()
    {
        var (node, problem) = await RequestBodies.ReadJsonAsync(Request([0xEF, 0xBB, 0xBF, (byte)'{', (byte)'}'], null), 4096, required: false, default);

        Assert.Null(problem);
        Assert.NotNull(node);
    }

    [Fact]
    public async Task A_chunked_body_over_the_limit_is_a_413()
    {
        var request = Request(new byte[5000], "application/json");
        request.ContentLength = null;

        var (_, problem) = await RequestBodies.ReadJsonAsync(request, 4096, required: false, default);

        Assert.Equal(413, (problem as IStatusCodeHttpResult)?.StatusCode);
    }

    [Theory]
    [InlineData("[]", "body")]
    [InlineData("\"cancel\"", "body")]
    [InlineData("42", "body")]
    [InlineData("null", "body")]
    [InlineData("{\"reason\":\"x\",\"force\":true}", "force")]
    public async Task An_object_body_of_the_wrong_kind_or_with_an_unknown_field_names_it(string body, string field)
    {
        var (_, problem) = await RequestBodies.ReadObjectAsync(Request(Encoding.UTF8.GetBytes(body), "application/json"), 4096, required: false, ["reason"], "with an optional 'reason'", default);

        var validation = Assert.IsType<Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult>(problem);
        var errors = Assert.IsAssignableFrom<IEnumerable<Dictionary<string, string>>>(validation.ProblemDetails.Extensions["errors"]);
        Assert.Equal(field, Assert.Single(errors)["path"]);
    }

    [Theory]
    [InlineData("0123456789abcdef0123456789abcdef", true)]
    [InlineData("run-1_A", true)]
    [InlineData("", false)]
    [InlineData("../etc", false)]
    [InlineData("a/b", false)]
    [InlineData("a%2Fb", false)]
    [InlineData("a\nb", false)]
    [InlineData("a\u0000", false)]
    [InlineData("ü", false)]
    public void Run_ids_are_checked_against_one_rule(string id, bool valid) => Assert.Equal(valid, RunIds.IsValid(id));

    [Fact]
    public void Generated_run_ids_satisfy_the_rule() => Assert.True(RunIds.IsValid(RunIds.New()));

    [Fact]
    public void An_id_longer_than_the_cap_is_refused() => Assert.False(RunIds.IsValid(new string('a', RunIds.MaxLength + 1)));

    private static HttpRequest Request(byte[] body, string? contentType)
    {
        var context = new DefaultHttpContext();
        context.Request.Body = new MemoryStream(body);
        context.Request.ContentLength = body.Length;
        context.Request.ContentType = contentType;
        return context.Request;
    }
}
