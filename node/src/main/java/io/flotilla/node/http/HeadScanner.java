package io.flotilla.node.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.concurrent.FastThreadLocal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Supplier;

/**
 * One pass of a byte loop over each HTTP/1.1 message head before Netty's decoder reads it, refusing
 * what Netty would otherwise tolerate and what a proxy must never pass on (RFC 9112). With every name
 * and value byte checked here, the decoder's header maps need no validation of their own (a per-field
 * cost several times this loop's). It keeps its place across reads, so a head arriving in pieces is
 * scanned once, and it stops at the empty line: bodies are not its to scan.
 *
 * <p>Refused in both directions: obs-fold (RFC 9112 §5.2; a proxy may refuse a folded response with
 * 502), a CR not followed by LF, a bare LF, NUL (§2.2), a field name that is not a token (§5.1),
 * control characters in field values (RFC 9110 §5.5), an HTTP-name other than exactly {@code HTTP}
 * (§2.3), a second Content-Length field (§6.3, which Netty lets through in HTTP/1.0), and the size
 * limits. Requests also refuse whitespace between a field name and its colon (§5.1: 400); in a response
 * it is let through for Netty to remove, as a proxy must (§5.1), but nothing else may follow the name.
 */
final class HeadScanner {
    private static final byte CR = '\r';
    private static final byte LF = '\n';
    private static final boolean[] TCHAR = new boolean[256];
    /** Bytes a field value may hold, CR excepted: HTAB, SP, VCHAR, obs-text (RFC 9110 §5.5). */
    private static final boolean[] FIELD_VCHAR = new boolean[256];
    /** Where the head of a direct buffer is copied to be scanned: one per event loop thread. */
    private static final FastThreadLocal<byte[]> PIECE = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[512];
        }
    };

    private static final byte[] HTTP_NAME = {'H', 'T', 'T', 'P', '/'};
    private static final byte[] CONTENT_LENGTH = "content-length".getBytes(StandardCharsets.US_ASCII);

    static {
        for (char c = '0'; c <= '9'; c++) TCHAR[c] = true;
        for (char c = 'a'; c <= 'z'; c++) TCHAR[c] = true;
        for (char c = 'A'; c <= 'Z'; c++) TCHAR[c] = true;
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) TCHAR[c] = true;
        for (int b = 0; b < 256; b++) FIELD_VCHAR[b] = b == '\t' || (b >= 0x20 && b != 0x7f);
    }

    private final boolean request;
    private final String head;
    private final int maxFirstLine;
    private final int maxHeaderLine;
    private final int maxHeaderCount;

    /** True between the end of a message (or the connection's start) and the end of the next head. */
    private boolean expectingHead = true;
    /** No more heads: the connection switched protocols (101, a tunnel). */
    private boolean stopped;
    /** A head was refused: every byte after it is discarded. */
    private boolean broken;

    private int readerBefore;
    private int outBefore;
    /** Bytes past the reader index already scanned, so a head arriving in pieces is scanned once. */
    private int scannedAhead;

    private boolean inFirstLine = true;
    private boolean sawAnyLineByte;
    private int firstLineSpaces;
    private int versionBytes;
    /** The status line's code, digit by digit (responses). */
    private int status;

    private int statusDigits;
    private int lineLength;
    private int headerCount;
    private boolean inValue;
    /** A response field name was followed by whitespace: only more whitespace or the colon may come. */
    private boolean afterName;

    private boolean lastWasCr;
    /** Leading bytes of the current field name that spell "content-length", or -1 once one differs. */
    private int contentLengthMatched;

    private int contentLengthFields;
    /** Why the head being scanned is refused, set where {@link #process} stops. */
    private Exception refusal;

    HeadScanner(boolean request, int maxFirstLine, int maxHeaderLine, int maxHeaderCount) {
        this.request = request;
        this.head = request ? "request head" : "response head";
        this.maxFirstLine = maxFirstLine;
        this.maxHeaderLine = maxHeaderLine;
        this.maxHeaderCount = maxHeaderCount;
    }

    /** Whether the next bytes of {@code buffer} belong to a head not yet scanned to its end. */
    boolean expectingHead(ByteBuf buffer) {
        return expectingHead && !stopped && !broken && buffer.isReadable();
    }

    /**
     * Before the decoder reads {@code buffer}: scans what is new of a head. Returns whether the decoder
     * should read it; if not, the buffer was discarded, and on a refusal {@code failed}'s message, with
     * the reason as its decoder result, was added to {@code out} (the caller answers and closes).
     */
    boolean decodable(ByteBuf buffer, List<Object> out, Supplier<? extends HttpMessage> failed) {
        if (broken) {
            buffer.skipBytes(buffer.readableBytes());
            return false;
        }
        if (expectingHead(buffer)) {
            Exception refused = scan(buffer);
            if (refused != null) {
                broken = true;
                buffer.skipBytes(buffer.readableBytes());
                HttpMessage bad = failed.get();
                bad.setDecoderResult(DecoderResult.failure(refused));
                out.add(bad);
                return false;
            }
        }
        readerBefore = buffer.readerIndex();
        outBefore = out.size();
        return true;
    }

    /**
     * After the decoder read {@code buffer}: books what it consumed, and a message's end starts the next
     * head (none after a 101: the connection carries another protocol). Returns the decoder's last
     * output of this call, or null.
     */
    Object decoded(ByteBuf buffer, List<Object> out) {
        Object last = out.size() > outBefore ? out.get(out.size() - 1) : null;
        scannedAhead = Math.max(0, scannedAhead - (buffer.readerIndex() - readerBefore));
        if (last instanceof HttpMessage message && message.decoderResult().isFailure()) {
            broken = true;
        } else if (last instanceof LastHttpContent) {
            if (!request && status == 101) {
                stopped = true;
            }
            expectingHead = true;
            scannedAhead = 0;
            inFirstLine = true;
            sawAnyLineByte = false;
            firstLineSpaces = 0;
            versionBytes = 0;
            status = 0;
            statusDigits = 0;
            lineLength = 0;
            headerCount = 0;
            inValue = false;
            afterName = false;
            lastWasCr = false;
            contentLengthFields = 0;
        }
        return last;
    }

    /** Scans the not yet scanned part of the current head; returns why it is refused, or null. */
    Exception scan(ByteBuf buffer) {
        int from = buffer.readerIndex() + scannedAhead;
        int to = buffer.writerIndex();
        int stoppedAt = -1;
        if (buffer.hasArray()) {
            int shift = buffer.arrayOffset();
            int at = scan(buffer.array(), shift + from, shift + to);
            stoppedAt = at < 0 ? -1 : at - shift;
        } else {
            // A direct buffer: copied a piece at a time to a per-thread array, so that one tight loop
            // over an array serves both kinds (a byte at a time through the buffer cost ~3 ns each).
            byte[] piece = PIECE.get();
            for (int at = from; at < to && stoppedAt < 0 && refusal == null; at += piece.length) {
                int length = Math.min(piece.length, to - at);
                buffer.getBytes(at, piece, 0, length);
                int stop = scan(piece, 0, length);
                stoppedAt = stop < 0 ? -1 : at + stop;
            }
        }
        if (refusal != null) {
            Exception refused = refusal;
            refusal = null;
            return refused;
        }
        if (stoppedAt >= 0) {
            scannedAhead = stoppedAt + 1 - buffer.readerIndex(); // the head's last LF
            return null;
        }
        // Leave a trailing CR unscanned: whether LF follows is only known on the next read.
        int scannedTo = lastWasCr ? to - 1 : to;
        lastWasCr = false;
        scannedAhead = scannedTo - buffer.readerIndex();
        return null;
    }

    /**
     * Scans {@code bytes[from..to)} until the head ends or is refused; returns the index it stopped
     * at, or -1. The state lives in locals for the loop (fields written back at the end): read and
     * written through {@code this} a byte at a time, it cost ~4 ns a byte (OriginCodecBench).
     */
    private int scan(byte[] bytes, int from, int to) {
        boolean cr = lastWasCr;
        boolean first = inFirstLine;
        boolean value = inValue;
        boolean after = afterName;
        int line = lineLength;
        int matched = contentLengthMatched;
        int maxLine = maxHeaderLine;
        int stop = -1;
        for (int i = from; i < to; i++) {
            int b = bytes[i] & 0xff;
            if (value && !cr && FIELD_VCHAR[b]) { // most of a head: field values
                if (++line > maxLine) {
                    stop = tooLong(i);
                    break;
                }
                continue;
            }
            if (cr) {
                cr = false;
                if (b != LF) {
                    stop = refuse("bare CR in ", i);
                    break;
                }
                if (first && !sawAnyLineByte) {
                    continue; // RFC 9112 §2.2: empty lines before the start line are ignored
                }
                if (!first && line == 0) {
                    expectingHead = false; // the empty line: head complete; the body is not ours to scan
                    stop = i;
                    break;
                }
                if (!first && !value) {
                    stop = refuse("header line without a colon in ", i);
                    break;
                }
                if (first && (request ? firstLineSpaces != 2 : firstLineSpaces == 0)) {
                    // RFC 9112 §3: method SP request-target SP HTTP-version, nothing looser
                    stop = refuse(request ? "malformed request line in " : "malformed status line in ", i);
                    break;
                }
                first = false;
                line = 0;
                value = false;
                after = false;
                continue;
            }
            if (b == CR) {
                cr = true;
                continue;
            }
            if (b == LF) {
                stop = refuse("bare LF in ", i);
                break;
            }
            if (b == 0) {
                stop = refuse("NUL in ", i);
                break;
            }
            line++;
            if (first) {
                if (!firstLineByte(b, line)) {
                    stop = i;
                    break;
                }
                continue;
            }
            if (line > maxLine) {
                stop = tooLong(i);
                break;
            }
            if (line == 1) {
                if (b == ' ' || b == '\t') {
                    stop = refuse("obs-fold (line folding) in ", i);
                    break;
                }
                if (++headerCount > maxHeaderCount) {
                    refusal = new TooLongHttpHeaderException("more than " + maxHeaderCount + " header fields");
                    stop = i;
                    break;
                }
                matched = 0;
            }
            if (value) {
                stop = refuse("control character in a header value of ", i); // the loop above took the rest
                break;
            } else if (b == ':') {
                if (line == 1) {
                    stop = refuse("empty header name in ", i);
                    break;
                }
                // RFC 9112 §6.3 item 5, RFC 9110 §8.6: one length only. Netty refuses a second one in HTTP/1.1
                // but keeps the first in HTTP/1.0, where a peer in front of us may have used another.
                if (matched == CONTENT_LENGTH.length && ++contentLengthFields > 1) {
                    stop = refuse("more than one Content-Length field in ", i);
                    break;
                }
                value = true;
            } else if (!request && (b == ' ' || b == '\t')) {
                after = true; // Netty drops it from the name (RFC 9112 §5.1: a proxy must)
            } else if (!TCHAR[b] || after) {
                stop = refuse(
                        b == ' ' || b == '\t' || after
                                ? "whitespace in or after a header name in "
                                : "invalid character in a header name in ",
                        i);
                break;
            } else if (matched >= 0) {
                matched = matched < CONTENT_LENGTH.length && (b | 0x20) == CONTENT_LENGTH[matched] ? matched + 1 : -1;
            }
        }
        lastWasCr = cr;
        inFirstLine = first;
        inValue = value;
        afterName = after;
        lineLength = line;
        contentLengthMatched = matched;
        return stop;
    }

    /** One byte of the start line, {@code line} bytes into it; false if refused ({@link #refusal}). */
    private boolean firstLineByte(int b, int line) {
        sawAnyLineByte = true;
        if (line > maxFirstLine) {
            refusal = new TooLongHttpLineException(
                    (request ? "request line" : "status line") + " is longer than " + maxFirstLine + " bytes");
            return false;
        }
        if ((b < 0x20 && (request || b != '\t')) || b == 0x7f) {
            refuse(request ? "control character in request line of " : "control character in status line of ", 0);
            return false;
        }
        if (b == ' ') {
            firstLineSpaces++;
            return true;
        }
        // Netty upper-cases the version, so "http/1.1" would pass as HTTP/1.1 (RFC 9112 §2.3).
        int versionField = request ? 2 : 0;
        if (firstLineSpaces == versionField && versionBytes < HTTP_NAME.length && b != HTTP_NAME[versionBytes++]) {
            refuse("HTTP-version must start with HTTP/ exactly in ", 0);
            return false;
        }
        if (!request && firstLineSpaces == 1 && statusDigits < 3 && b >= '0' && b <= '9') {
            status = status * 10 + (b - '0');
            statusDigits++;
        }
        return true;
    }

    private int tooLong(int at) {
        refusal = new TooLongHttpHeaderException("a header line is longer than " + maxHeaderLine + " bytes");
        return at;
    }

    /** Records why the head is refused; returns {@code at}, where the scan stopped. */
    private int refuse(String why, int at) {
        refusal = new IllegalArgumentException(why + head);
        return at;
    }
}
