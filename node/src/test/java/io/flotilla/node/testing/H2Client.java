package io.flotilla.node.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * A raw HTTP/2 client for tests (RFC 9113): writes frames byte by byte as a test says, well-formed or
 * not, and reads what the server sends back frame by frame. HPACK is Netty's encoder and decoder; the
 * rest is done here, so a test can send what no real client would.
 */
public final class H2Client implements AutoCloseable {
    public static final int DATA = 0x0;
    public static final int HEADERS = 0x1;
    public static final int PRIORITY = 0x2;
    public static final int RST_STREAM = 0x3;
    public static final int SETTINGS = 0x4;
    public static final int PING = 0x6;
    public static final int GOAWAY = 0x7;
    public static final int WINDOW_UPDATE = 0x8;
    public static final int CONTINUATION = 0x9;
    public static final int END_STREAM = 0x1;
    public static final int END_HEADERS = 0x4;
    public static final int ACK = 0x1;

    /** One frame as read. */
    public record Frame(int type, int flags, int stream, byte[] payload) {
        public int errorCode() {
            int at = type == GOAWAY ? 4 : 0;
            return ((payload[at] & 0xff) << 24)
                    | ((payload[at + 1] & 0xff) << 16)
                    | ((payload[at + 2] & 0xff) << 8)
                    | (payload[at + 3] & 0xff);
        }

        public boolean endStream() {
            return (flags & END_STREAM) != 0 && (type == DATA || type == HEADERS);
        }
    }

    /** A stream's response as collected: its first HEADERS, its body, and how it ended. */
    public record Response(Http2Headers headers, byte[] body, Http2Headers trailers, Integer resetCode) {
        public int status() {
            return headers == null ? 0 : Integer.parseInt(headers.status().toString());
        }

        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder();
    private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false);
    private final Map<Integer, Response> done = new HashMap<>();
    private final Map<Integer, Partial> partial = new HashMap<>();
    private Frame goAway;
    private boolean autoWindow = true;
    private final java.util.Set<Integer> held = new java.util.HashSet<>();

    private static final class Partial {
        Http2Headers headers;
        Http2Headers trailers;
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
    }

    /** Over an open socket (plain, or TLS that negotiated h2), after any bytes the test wrote first. */
    public H2Client(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(10_000);
        this.in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream(), 64 * 1024));
        this.out = new java.io.BufferedOutputStream(socket.getOutputStream(), 64 * 1024); // flush() sends
    }

    /** h2c with prior knowledge: connects, sends the preface and an empty SETTINGS. */
    public static H2Client connect(int port) throws IOException {
        H2Client client = new H2Client(new Socket(InetAddress.getLoopbackAddress(), port));
        return client.preface();
    }

    /** Sends the connection preface and an empty SETTINGS frame. */
    public H2Client preface() throws IOException {
        ByteBuf preface = Http2CodecUtil.connectionPrefaceBuf();
        byte[] bytes = new byte[preface.readableBytes()];
        preface.readBytes(bytes);
        out.write(bytes);
        return frame(SETTINGS, 0, 0, new byte[0]).flush();
    }

    /** When false, DATA received is not acknowledged with WINDOW_UPDATE (a client that reads slowly). */
    public H2Client autoWindow(boolean on) {
        this.autoWindow = on;
        return this;
    }

    /**
     * While held, DATA on {@code stream} is read but its stream window not given back (the connection's
     * is): a client that reads one stream slowly. Releasing gives back what was read meanwhile.
     */
    public H2Client hold(int stream, boolean hold) throws IOException {
        if (hold) {
            held.add(stream);
        } else if (held.remove(stream)) {
            Partial p = partial.get(stream);
            if (p != null && p.body.size() > 0) {
                windowUpdate(stream, p.body.size()).flush();
            }
        }
        return this;
    }

    public Socket socket() {
        return socket;
    }

    // ---- writing ----------------------------------------------------------------------------------

    /** Writes one frame as given, valid or not. */
    public H2Client frame(int type, int flags, int stream, byte[] payload) throws IOException {
        byte[] frame = new byte[9 + payload.length];
        frame[0] = (byte) (payload.length >>> 16);
        frame[1] = (byte) (payload.length >>> 8);
        frame[2] = (byte) payload.length;
        frame[3] = (byte) type;
        frame[4] = (byte) flags;
        frame[5] = (byte) (stream >>> 24);
        frame[6] = (byte) (stream >>> 16);
        frame[7] = (byte) (stream >>> 8);
        frame[8] = (byte) stream;
        System.arraycopy(payload, 0, frame, 9, payload.length);
        out.write(frame);
        return this;
    }

    /** The HPACK block of {@code headers}, from this connection's encoder (its dynamic table grows). */
    public byte[] block(int stream, Http2Headers headers) {
        ByteBuf buf = Unpooled.buffer();
        try {
            encoder.encodeHeaders(stream, headers, buf);
            byte[] bytes = new byte[buf.readableBytes()];
            buf.readBytes(bytes);
            return bytes;
        } catch (Http2Exception e) {
            throw new IllegalStateException(e);
        } finally {
            buf.release();
        }
    }

    public H2Client headers(int stream, Http2Headers headers, boolean endStream) throws IOException {
        return frame(HEADERS, END_HEADERS | (endStream ? END_STREAM : 0), stream, block(stream, headers));
    }

    public H2Client data(int stream, byte[] bytes, boolean endStream) throws IOException {
        return frame(DATA, endStream ? END_STREAM : 0, stream, bytes);
    }

    /** A GET's request fields. */
    public static Http2Headers get(String path, String authority) {
        return request("GET", path, authority);
    }

    public static Http2Headers request(String method, String path, String authority) {
        return new DefaultHttp2Headers(false)
                .method(method)
                .scheme("http")
                .path(path)
                .authority(authority);
    }

    public H2Client rst(int stream, int code) throws IOException {
        return frame(RST_STREAM, 0, stream, int32(code));
    }

    public H2Client ping() throws IOException {
        return frame(PING, 0, 0, new byte[8]);
    }

    public H2Client windowUpdate(int stream, int increment) throws IOException {
        return frame(WINDOW_UPDATE, 0, stream, int32(increment));
    }

    public H2Client flush() throws IOException {
        out.flush();
        return this;
    }

    public static byte[] int32(int value) {
        return new byte[] {(byte) (value >>> 24), (byte) (value >>> 16), (byte) (value >>> 8), (byte) value};
    }

    // ---- reading ----------------------------------------------------------------------------------

    /** The next frame; answers SETTINGS and PING as a client must, and records responses as they come. */
    public Frame next() throws IOException {
        int length = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int stream = in.readInt() & 0x7fffffff;
        byte[] payload = new byte[length];
        in.readFully(payload);
        Frame frame = new Frame(type, flags, stream, payload);
        switch (type) {
            case SETTINGS -> {
                if ((flags & ACK) == 0) {
                    reply(SETTINGS, ACK, 0, new byte[0]);
                }
            }
            case GOAWAY -> goAway = frame;
            case HEADERS -> {
                Partial p = partial.computeIfAbsent(stream, s -> new Partial());
                Http2Headers decoded = decode(stream, payload, flags);
                if (p.headers == null || p.headers.status().toString().startsWith("1")) {
                    p.headers = decoded;
                } else {
                    p.trailers = decoded;
                }
                if (frame.endStream()) {
                    finish(stream, null);
                }
            }
            case DATA -> {
                Partial p = partial.computeIfAbsent(stream, s -> new Partial());
                p.body.write(payload);
                if (autoWindow && length > 0) {
                    reply(WINDOW_UPDATE, 0, 0, int32(length));
                    if (!frame.endStream() && !held.contains(stream)) {
                        reply(WINDOW_UPDATE, 0, stream, int32(length));
                    }
                }
                if (frame.endStream()) {
                    finish(stream, null);
                }
            }
            case RST_STREAM -> finish(stream, frame.errorCode());
            default -> {}
        }
        return frame;
    }

    /** A frame a client sends in answer to one read; best effort, since the server may be closing. */
    private void reply(int type, int flags, int stream, byte[] payload) {
        try {
            frame(type, flags, stream, payload).flush();
        } catch (IOException closing) {
            // what was read is still returned; the next read tells how the connection ended
        }
    }

    private Http2Headers decode(int stream, byte[] payload, int flags) throws IOException {
        if ((flags & END_HEADERS) == 0) {
            throw new IOException("the server split a header block; this client does not take CONTINUATION");
        }
        int from = (flags & 0x8) != 0 ? 1 + (payload[0] & 0xff) : 0; // PADDED
        if ((flags & 0x20) != 0) {
            from += 5; // PRIORITY
        }
        try {
            return decoder.decodeHeaders(stream, Unpooled.wrappedBuffer(payload, from, payload.length - from));
        } catch (Http2Exception e) {
            throw new IOException(e);
        }
    }

    private void finish(int stream, Integer reset) {
        Partial p = partial.remove(stream);
        if (p == null) {
            p = new Partial();
        }
        done.put(stream, new Response(p.headers, p.body.toByteArray(), p.trailers, reset));
    }

    /** Body bytes received so far on a stream that has not ended. */
    public int received(int stream) {
        Partial p = partial.get(stream);
        return p == null ? 0 : p.body.size();
    }

    /** Reads until {@code stream} has ended (END_STREAM or RST_STREAM) and returns its response. */
    public Response response(int stream) throws IOException {
        while (!done.containsKey(stream)) {
            if (goAway != null && stream > lastStream(goAway)) {
                throw new IOException("GOAWAY before stream " + stream + " ended, code " + goAway.errorCode());
            }
            next();
        }
        return done.get(stream);
    }

    private static int lastStream(Frame goAway) {
        byte[] p = goAway.payload();
        return ((p[0] & 0x7f) << 24) | ((p[1] & 0xff) << 16) | ((p[2] & 0xff) << 8) | (p[3] & 0xff);
    }

    /** Reads until a GOAWAY comes (returned) or {@code stream} ends first (null). */
    public Frame awaitGoAwayOrResponse(int stream) throws IOException {
        while (goAway == null && !done.containsKey(stream)) {
            next();
        }
        return goAway;
    }

    /** Reads until a GOAWAY comes (returned) or the connection ends (null: closed without one). */
    public Frame awaitGoAway() throws IOException {
        try {
            while (goAway == null) {
                next();
            }
            return goAway;
        } catch (EOFException | SocketTimeoutException e) {
            return goAway;
        } catch (IOException e) {
            if (goAway != null) {
                return goAway;
            }
            throw e;
        }
    }

    /** Whether the server closed the connection: reads (and discards frames) until end of stream. */
    public boolean closedByServer() throws IOException {
        try {
            while (true) {
                next();
            }
        } catch (EOFException e) {
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset by the server
        }
    }

    public InputStream input() {
        return in;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
