package io.flotilla.node.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Netty's request decoder with the head of every request first checked byte by byte against
 * RFC 9112, refusing what Netty would otherwise tolerate and what a proxy must never pass on.
 *
 * <p>Netty already refuses Content-Length with Transfer-Encoding, a final coding other than chunked,
 * bad chunk lines and bare LF. It folds obs-fold lines and leaves bare CR, NUL and whitespace before
 * the colon to header validation; an origin behind us may read those differently (the root of
 * request smuggling), so they are refused here before the decoder sees them:
 * <ul>
 *   <li>obs-fold, a line starting with SP or HT (RFC 9112 §5.2)</li>
 *   <li>a CR not followed by LF, or NUL anywhere in the head (RFC 9112 §2.2)</li>
 *   <li>a field name that is not a token, or whitespace before the colon (RFC 9112 §5.1)</li>
 *   <li>control characters in field values (RFC 9110 §5.5)</li>
 *   <li>an HTTP-name other than exactly {@code HTTP}, which is case-sensitive (RFC 9112 §2.3)</li>
 *   <li>a second Content-Length field, which Netty takes the first of in HTTP/1.0 (RFC 9112 §6.3)</li>
 *   <li>the size limits of one header line (431), the number of fields (431), the request line (414)</li>
 * </ul>
 * A refused head becomes an {@link HttpRequest} whose decoder result is a failure, like Netty's own
 * refusals, and everything after it on the connection is discarded: the caller answers and closes.
 */
public class StrictRequestDecoder extends HttpRequestDecoder {
    private static final byte CR = '\r';
    private static final byte LF = '\n';
    private static final boolean[] TCHAR = new boolean[256];
    private static final byte[] HTTP_NAME = {'H', 'T', 'T', 'P', '/'};
    private static final byte[] CONTENT_LENGTH = "content-length".getBytes(StandardCharsets.US_ASCII);

    static {
        for (char c = '0'; c <= '9'; c++) TCHAR[c] = true;
        for (char c = 'a'; c <= 'z'; c++) TCHAR[c] = true;
        for (char c = 'A'; c <= 'Z'; c++) TCHAR[c] = true;
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) TCHAR[c] = true;
    }

    private final int maxRequestLine;
    private final int maxHeaderLine;
    private final int maxHeaderCount;

    /** True between the end of a request (or the connection's start) and the end of the next head. */
    private boolean expectingHead = true;
    /** Bytes past the reader index already scanned, so a head arriving in pieces is scanned once. */
    private int scannedAhead;

    private boolean broken;
    private boolean headSignalled;

    // Scanner state, kept across reads of one head.
    private boolean inRequestLine = true;
    private boolean sawAnyLineByte;
    private int requestLineSpaces;
    private int versionBytes;
    private int lineLength;
    private int headerCount;
    private boolean inValue;
    private boolean lastWasCr;
    /** Leading bytes of the current field name that spell "content-length", or -1 once one differs. */
    private int contentLengthMatched;

    private int contentLengthFields;

    public StrictRequestDecoder(HttpDecoderConfig config, int maxRequestLine, int maxHeaderLine, int maxHeaderCount) {
        super(config);
        this.maxRequestLine = maxRequestLine;
        this.maxHeaderLine = maxHeaderLine;
        this.maxHeaderCount = maxHeaderCount;
    }

    /** One per connection; said here so that adding it skips Netty's per-class lookup (issue 16). */
    @Override
    public boolean isSharable() {
        return false;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        if (broken) {
            buffer.skipBytes(buffer.readableBytes());
            return;
        }
        if (expectingHead && buffer.isReadable()) {
            if (!headSignalled) {
                headSignalled = true;
                ctx.fireUserEventTriggered(RequestHeadStarted.INSTANCE);
            }
            Exception refusal = scan(buffer);
            if (refusal != null) {
                broken = true;
                buffer.skipBytes(buffer.readableBytes());
                DefaultHttpRequest bad = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/bad-request");
                bad.setDecoderResult(DecoderResult.failure(refusal));
                out.add(bad);
                return;
            }
        }
        int before = buffer.readerIndex();
        int outBefore = out.size();
        super.decode(ctx, buffer, out);
        scannedAhead = Math.max(0, scannedAhead - (buffer.readerIndex() - before));
        if (out.size() > outBefore) {
            Object last = out.get(out.size() - 1);
            if (last instanceof LastHttpContent) {
                startNextHead();
            } else if (last instanceof HttpRequest
                    && ((HttpRequest) last).decoderResult().isFailure()) {
                broken = true;
            }
        }
    }

    private void startNextHead() {
        expectingHead = true;
        headSignalled = false;
        scannedAhead = 0;
        inRequestLine = true;
        sawAnyLineByte = false;
        requestLineSpaces = 0;
        versionBytes = 0;
        lineLength = 0;
        headerCount = 0;
        inValue = false;
        lastWasCr = false;
        contentLengthFields = 0;
    }

    /** Scans the not yet scanned part of the current head; returns why it is refused, or null. */
    private Exception scan(ByteBuf buffer) {
        int from = buffer.readerIndex() + scannedAhead;
        int to = buffer.writerIndex();
        for (int i = from; i < to; i++) {
            int b = buffer.getByte(i) & 0xff;
            if (lastWasCr) {
                lastWasCr = false;
                if (b != LF) {
                    return new IllegalArgumentException("bare CR in request head");
                }
                if (inRequestLine && !sawAnyLineByte) {
                    continue; // RFC 9112 §2.2: empty lines before the request line are ignored
                }
                if (!inRequestLine && lineLength == 0) {
                    expectingHead = false; // the empty line: head complete; the body is not ours to scan
                    scannedAhead = i + 1 - buffer.readerIndex();
                    return null;
                }
                if (!inRequestLine && !inValue) {
                    return new IllegalArgumentException("header line without a colon");
                }
                if (inRequestLine && requestLineSpaces != 2) {
                    // RFC 9112 §3: method SP request-target SP HTTP-version, nothing looser
                    return new IllegalArgumentException("malformed request line");
                }
                inRequestLine = false;
                lineLength = 0;
                inValue = false;
                continue;
            }
            if (b == CR) {
                lastWasCr = true;
                continue;
            }
            if (b == LF) {
                return new IllegalArgumentException("bare LF in request head");
            }
            if (b == 0) {
                return new IllegalArgumentException("NUL in request head");
            }
            lineLength++;
            if (inRequestLine) {
                sawAnyLineByte = true;
                if (lineLength > maxRequestLine) {
                    return new TooLongHttpLineException("request line is longer than " + maxRequestLine + " bytes");
                }
                if (b < 0x20 || b == 0x7f) {
                    return new IllegalArgumentException("control character in request line");
                }
                if (b == ' ') {
                    requestLineSpaces++;
                } else if (requestLineSpaces == 2
                        && versionBytes < HTTP_NAME.length
                        && b != HTTP_NAME[versionBytes++]) {
                    // Netty upper-cases the version, so "http/1.1" would pass as HTTP/1.1 (RFC 9112 §2.3).
                    return new IllegalArgumentException("HTTP-version must start with HTTP/ exactly");
                }
                continue;
            }
            if (lineLength > maxHeaderLine) {
                return new TooLongHttpHeaderException("a header line is longer than " + maxHeaderLine + " bytes");
            }
            if (lineLength == 1) {
                if (b == ' ' || b == '\t') {
                    return new IllegalArgumentException("obs-fold (line folding) in request head");
                }
                if (++headerCount > maxHeaderCount) {
                    return new TooLongHttpHeaderException("more than " + maxHeaderCount + " header fields");
                }
                contentLengthMatched = 0;
            }
            if (inValue) {
                if ((b < 0x20 && b != '\t') || b == 0x7f) {
                    return new IllegalArgumentException("control character in a header value");
                }
            } else if (b == ':') {
                if (lineLength == 1) {
                    return new IllegalArgumentException("empty header name");
                }
                // RFC 9112 §6.3 item 5, RFC 9110 §8.6: one length only. Netty refuses a second one in HTTP/1.1
                // but keeps the first in HTTP/1.0, where a peer in front of us may have used another.
                if (contentLengthMatched == CONTENT_LENGTH.length && ++contentLengthFields > 1) {
                    return new IllegalArgumentException("more than one Content-Length field");
                }
                inValue = true;
            } else if (!TCHAR[b]) {
                return new IllegalArgumentException(
                        b == ' ' || b == '\t'
                                ? "whitespace in or after a header name"
                                : "invalid character in a header name");
            } else if (contentLengthMatched >= 0) {
                contentLengthMatched = contentLengthMatched < CONTENT_LENGTH.length
                                && (b | 0x20) == CONTENT_LENGTH[contentLengthMatched]
                        ? contentLengthMatched + 1
                        : -1;
            }
        }
        // Leave a trailing CR unscanned: whether LF follows is only known on the next read.
        int scannedTo = lastWasCr ? to - 1 : to;
        if (lastWasCr) {
            lastWasCr = false;
        }
        scannedAhead = scannedTo - buffer.readerIndex();
        return null;
    }
}
