using System.Text;
using Orchestrator.Core.Persistence;

namespace Orchestrator.Core.Tests.Persistence;

/// <summary>A list cursor round-trips to the microsecond, and anything the API did not hand out is refused.</summary>
public sealed class RunListCursorTests
{
    [Fact]
    public void A_cursor_round_trips_to_the_microsecond()
    {
        var cursor = new RunListCursor(new DateTimeOffset(2026, 12, 1, 3, 4, 5, TimeSpan.Zero).AddTicks(1234560), "0123456789abcdef0123456789abcdef");

        Assert.True(RunListCursor.TryDecode(cursor.Encode(), out var decoded));
        Assert.Equal(cursor, decoded);
    }

    [Theory]
    [InlineData("")]
    [InlineData("!!!")]
    [InlineData("v1:1:abc")]             // not base64url
    [InlineData("djI6MTIzOmFiYw")]       // "v2:123:abc"
    [InlineData("djE6LTE6YWJj")]         // "v1:-1:abc"
    [InlineData("djE6MTIzOi4uLy4uL2V0Yw")] // "v1:123:../../etc"
    [InlineData("djE6eDphYmM")]          // "v1:x:abc"
    public void A_forged_cursor_is_refused(string text) => Assert.False(RunListCursor.TryDecode(text, out _));

    [Fact]
    public void Invalid_utf8_inside_a_cursor_is_refused() =>
        Assert.False(RunListCursor.TryDecode(System.Buffers.Text.Base64Url.EncodeToString([0x76, 0x31, 0x3a, 0xff, 0xfe]), out _));

    [Fact]
    public void A_ten_kilobyte_cursor_is_refused() =>
        Assert.False(RunListCursor.TryDecode(System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes("v1:1:" + new string('a', 10_000))), out _));
}
