package io.flotilla.node.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@link Http2StreamCodec} on an extended CONNECT (RFC 8441), in an {@link EmbeddedChannel}. */
class Http2StreamCodecConnectTest {
    private static Http2Headers connect(String protocol) {
        return new DefaultHttp2Headers(false)
                .method("CONNECT")
                .set(":protocol", protocol)
                .scheme("https")
                .path("/chat?room=1")
                .authority("example.com")
                .set("sec-websocket-version", "13");
    }

    private static EmbeddedChannel stream(boolean announced) {
        return new EmbeddedChannel(new Http2StreamCodec(null, null, 100, announced));
    }

    @Test
    void becomesACompleteGetAndHoldsWhatFollowsForTheTunnel() {
        EmbeddedChannel channel = stream(true);
        channel.writeInbound(new DefaultHttp2HeadersFrame(connect("websocket"), false));
        HttpRequest request = channel.readInbound();
        assertEquals(HttpMethod.GET, request.method());
        assertEquals("/chat?room=1", request.uri());
        assertEquals("example.com", request.headers().get("host"));
        assertNull(request.headers().get("transfer-encoding"), "no body: complete at its head");
        assertSame(LastHttpContent.EMPTY_LAST_CONTENT, channel.readInbound());
        assertEquals(HttpVersion.HTTP_1_1, request.protocolVersion());
        assertEquals(Http2StreamCodec.HTTP_2, Http2StreamCodec.receivedVersion(request), "what Via names");
        Http2StreamCodec codec = channel.pipeline().get(Http2StreamCodec.class);
        assertEquals("websocket", codec.connectProtocol());

        // Early bytes wait in the codec, and reach whatever follows it once it leaves the pipeline.
        channel.writeInbound(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("early", StandardCharsets.US_ASCII)));
        assertNull(channel.readInbound());
        channel.pipeline().addLast(new ChannelInboundHandlerAdapter()); // the tunnel's end, in real life
        channel.pipeline().remove(codec);
        Http2DataFrame early = channel.readInbound();
        assertEquals("early", early.content().toString(StandardCharsets.US_ASCII));
        early.release();
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void malformedOrUnannouncedIsReset() {
        Http2Headers noPath = connect("websocket");
        noPath.remove(":path");
        Http2Headers onGet = connect("websocket").method("GET");
        Http2Headers empty = connect("");
        for (Http2Headers headers : new Http2Headers[] {noPath, onGet, empty}) {
            EmbeddedChannel channel = stream(true);
            channel.writeInbound(new DefaultHttp2HeadersFrame(headers, false));
            assertReset(channel, Http2Error.PROTOCOL_ERROR);
        }
        EmbeddedChannel ended = stream(true);
        ended.writeInbound(new DefaultHttp2HeadersFrame(connect("websocket"), true));
        assertReset(ended, Http2Error.PROTOCOL_ERROR);
        EmbeddedChannel unannounced = stream(false);
        unannounced.writeInbound(new DefaultHttp2HeadersFrame(connect("websocket"), false));
        assertReset(unannounced, Http2Error.PROTOCOL_ERROR);
    }

    @Test
    void aTwoHundredThatIsNotTheTunnelsBecomes502AndTheStreamIsResetAfterIt() {
        EmbeddedChannel channel = stream(true);
        channel.writeInbound(new DefaultHttp2HeadersFrame(connect("websocket"), false));
        channel.readInbound();
        channel.readInbound();
        DefaultFullHttpResponse ok = new DefaultFullHttpResponse(
                HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.copiedBuffer("hi", StandardCharsets.US_ASCII));
        channel.writeAndFlush(ok);
        Http2HeadersFrame head = channel.readOutbound();
        assertEquals("502", head.headers().status().toString());
        assertTrue(head.isEndStream());
        assertReset(channel, Http2Error.NO_ERROR);
        assertEquals(0, ok.refCnt(), "the origin's body was let go");
        assertFalse(channel.finishAndReleaseAll());
    }

    @Test
    void theTunnelsTwoHundredLeavesTheStreamOpen() {
        EmbeddedChannel channel = stream(true);
        channel.writeInbound(new DefaultHttp2HeadersFrame(connect("websocket"), false));
        channel.readInbound();
        channel.readInbound();
        DefaultHttpHeaders fields = new DefaultHttpHeaders();
        fields.set("sec-websocket-protocol", "chat");
        fields.set("connection", "upgrade");
        fields.set("upgrade", "websocket");
        Http2StreamCodec codec = channel.pipeline().get(Http2StreamCodec.class);
        codec.openTunnel(fields);
        channel.flushOutbound();
        Http2HeadersFrame head = channel.readOutbound();
        assertEquals("200", head.headers().status().toString());
        assertEquals("chat", head.headers().get("sec-websocket-protocol").toString());
        assertNull(head.headers().get("upgrade"), "connection-specific fields do not cross into HTTP/2");
        assertFalse(head.isEndStream());
        assertNull(channel.readOutbound(), "no reset: the stream carries the tunnel");
        assertEquals(200, codec.lastStatus());
        assertFalse(channel.finishAndReleaseAll());
    }

    private static void assertReset(EmbeddedChannel channel, Http2Error error) {
        Object written = channel.readOutbound();
        Http2ResetFrame reset = assertInstanceOf(Http2ResetFrame.class, written, String.valueOf(written));
        assertEquals(error.code(), reset.errorCode());
        assertNull(channel.readInbound(), "nothing for the request path");
        channel.finishAndReleaseAll();
    }
}
