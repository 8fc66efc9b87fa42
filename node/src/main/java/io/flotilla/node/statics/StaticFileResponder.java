package io.flotilla.node.statics;

import io.flotilla.node.compress.ContentEncoder;
import io.flotilla.node.compress.EncodedChunkedInput;
import io.flotilla.node.http.ByteRanges;
import io.flotilla.node.http.FinalHeadPass;
import io.flotilla.node.http.Preconditions;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.DefaultFileRegion;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpChunkedInput;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.stream.ChunkedNioFile;
import io.netty.handler.stream.ChunkedWriteHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/** Serves files under one root directory as HTTP responses, with conditional requests and single byte ranges. */
public final class StaticFileResponder {

    private static final String INDEX = "index.html";
    private static final String TEXT_PLAIN = "text/plain; charset=utf-8";
    private static final String OCTET_STREAM = "application/octet-stream";

    // charset is only declared for text/*: JSON defines no charset parameter (RFC 8259 §11), and for XML
    // and SVG a charset parameter would override the document's own encoding declaration (RFC 7303 §3).
    private static final Map<String, String> CONTENT_TYPES = Map.ofEntries(
            Map.entry("html", "text/html; charset=utf-8"),
            Map.entry("css", "text/css; charset=utf-8"),
            Map.entry("js", "text/javascript; charset=utf-8"),
            Map.entry("mjs", "text/javascript; charset=utf-8"),
            Map.entry("txt", TEXT_PLAIN),
            Map.entry("json", "application/json"),
            Map.entry("xml", "application/xml"),
            Map.entry("svg", "image/svg+xml"),
            Map.entry("png", "image/png"),
            Map.entry("jpg", "image/jpeg"),
            Map.entry("jpeg", "image/jpeg"),
            Map.entry("gif", "image/gif"),
            Map.entry("webp", "image/webp"),
            Map.entry("ico", "image/vnd.microsoft.icon"),
            Map.entry("woff", "font/woff"),
            Map.entry("woff2", "font/woff2"),
            Map.entry("wasm", "application/wasm"),
            Map.entry("pdf", "application/pdf"),
            Map.entry("mp4", "video/mp4"));

    private final Path root;

    /**
     * Creates a responder for one directory.
     *
     * @param root an existing directory; its real path is resolved once, here, and every served file must lie
     *             under it after symlinks are followed
     * @throws IllegalArgumentException if root is not a directory
     * @throws UncheckedIOException     if root does not exist or cannot be resolved
     */
    public StaticFileResponder(Path root) {
        Objects.requireNonNull(root, "root");
        try {
            this.root = root.toRealPath();
        } catch (IOException e) {
            throw new UncheckedIOException("static root " + root + " cannot be resolved", e);
        }
        if (!Files.isDirectory(this.root)) {
            throw new IllegalArgumentException("static root " + root + " is not a directory");
        }
    }

    /**
     * Writes the complete response to {@code request} (status line, headers, body) through {@code ctx} and returns
     * the future of the last write.
     *
     * <p>Bodies of files are written as a {@link DefaultFileRegion} (sendfile) followed by
     * {@link LastHttpContent#EMPTY_LAST_CONTENT}, with {@code Content-Length} set; a FileRegion can only be written
     * to a channel without TLS, since {@code SslHandler} has to see the bytes: on TLS connections the file goes
     * out as an {@link HttpChunkedInput} instead (still with {@code Content-Length}, so not chunked on the wire). The region owns the open file and
     * closes it when released, which Netty does once it is written or once the write fails.
     *
     * <p>Bad client input is answered, never thrown: methods other than GET and HEAD get 405; a path that is not
     * valid percent-encoded UTF-8, or that contains, once decoded, a NUL, a backslash, an encoded slash, or a
     * {@code .} or {@code ..} segment gets 400 (traversal attempts are refused before the file system is asked);
     * a path that is missing, not a regular file, or leads outside the root through a symlink gets 404; a file
     * the process may not read gets 403. A directory is never listed: without a trailing slash it is redirected
     * (301) to the same URL with one, with one it serves its {@code index.html} or 404.
     *
     * <p>Preconditions follow RFC 9110 §13.2.2 (If-Match, If-Unmodified-Since → 412; If-None-Match,
     * If-Modified-Since → 304). A single byte range (RFC 9110 §14.1.2) is answered with 206, or 416 when it
     * starts past the end; a Range header with several ranges, an invalid one, one on a HEAD request, on an
     * empty file, or one whose If-Range no longer matches is ignored and the whole file served with 200, as
     * RFC 9110 §14.2 allows.
     *
     * @param ctx       context whose outbound side leads to the HttpResponseEncoder
     * @param request   the request; its URI is used to build a directory redirect
     * @param path      the request path relative to the route: still percent-encoded, starting with {@code /}
     *                  (empty means the route's root and is redirected), without a query string
     * @param keepAlive false adds {@code Connection: close}; the caller closes the channel
     * @return the future of the last write
     */
    public ChannelFuture respond(ChannelHandlerContext ctx, HttpRequest request, String path, boolean keepAlive) {
        return respond(
                ctx,
                request,
                path,
                response -> HttpUtil.setKeepAlive(response.headers(), request.protocolVersion(), keepAlive));
    }

    /**
     * As {@link #respond(ChannelHandlerContext, HttpRequest, String, boolean)}, each response head
     * finished by {@code pass} (the proxy's response pass: its fields and connection persistence).
     */
    public ChannelFuture respond(ChannelHandlerContext ctx, HttpRequest request, String path, FinalHeadPass pass) {
        HttpMethod method = request.method();
        boolean head = HttpMethod.HEAD.equals(method);
        if (!head && !HttpMethod.GET.equals(method)) {
            FullHttpResponse response = plain(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, false);
            response.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
            return send(ctx, request, response, pass);
        }

        List<String> segments = decodePath(path);
        if (segments == null) {
            return send(ctx, request, plain(ctx, HttpResponseStatus.BAD_REQUEST, head), pass);
        }
        boolean trailingSlash = path.endsWith("/");

        // Resolving, stat and open happen on the event loop: they are short syscalls that do not wait for the
        // file's contents (nginx serves from its event loop the same way); reading the contents is sendfile's job.
        Path file;
        String name;
        FileChannel channel;
        long mtimeMillis;
        try {
            Path resolved = root;
            for (String segment : segments) {
                resolved = resolved.resolve(segment);
            }
            file = resolved.toRealPath();
            if (!file.startsWith(root)) {
                return send(ctx, request, plain(ctx, HttpResponseStatus.NOT_FOUND, head), pass);
            }
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            name = segments.isEmpty() ? "" : segments.get(segments.size() - 1);
            if (attributes.isDirectory()) {
                if (!trailingSlash) {
                    return redirectToDirectory(ctx, request, head, pass);
                }
                file = file.resolve(INDEX).toRealPath();
                if (!file.startsWith(root)) {
                    return send(ctx, request, plain(ctx, HttpResponseStatus.NOT_FOUND, head), pass);
                }
                attributes = Files.readAttributes(file, BasicFileAttributes.class);
                name = INDEX;
            } else if (trailingSlash) {
                return send(ctx, request, plain(ctx, HttpResponseStatus.NOT_FOUND, head), pass);
            }
            // Anything but a regular file is refused before open(): opening a FIFO would block the event loop.
            if (!attributes.isRegularFile()) {
                return send(ctx, request, plain(ctx, HttpResponseStatus.NOT_FOUND, head), pass);
            }
            mtimeMillis = attributes.lastModifiedTime().toMillis();
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (AccessDeniedException e) {
            return send(ctx, request, plain(ctx, HttpResponseStatus.FORBIDDEN, head), pass);
        } catch (IOException | InvalidPathException e) {
            // Missing files, ENOTDIR, ELOOP, ENAMETOOLONG and names the platform cannot encode all mean "not here".
            return send(ctx, request, plain(ctx, HttpResponseStatus.NOT_FOUND, head), pass);
        }

        boolean handedOff = false;
        try {
            // The size comes from the open file so that Content-Length matches what sendfile will find.
            long size = channel.size();
            handedOff = true;
            return serveFile(ctx, request, head, pass, channel, name, size, mtimeMillis);
        } catch (IOException e) {
            return send(ctx, request, plain(ctx, HttpResponseStatus.NOT_FOUND, head), pass);
        } finally {
            if (!handedOff) {
                closeQuietly(channel);
            }
        }
    }

    /** Answers for a readable regular file; owns {@code channel} and closes it unless a FileRegion takes it over. */
    private static ChannelFuture serveFile(
            ChannelHandlerContext ctx,
            HttpRequest request,
            boolean head,
            FinalHeadPass pass,
            FileChannel channel,
            String name,
            long size,
            long mtimeMillis) {
        boolean handedOff = false;
        try {
            long now = System.currentTimeMillis();
            // RFC 9110 §8.8.2.1: a Last-Modified later than Date is replaced by Date.
            long lastModifiedSeconds = Math.min(mtimeMillis, now) / 1000;
            String lastModified = DateFormatter.format(new Date(lastModifiedSeconds * 1000));
            String etag = "\"" + Long.toHexString(size) + "-" + Long.toHexString(mtimeMillis) + "\"";
            HttpHeaders requestHeaders = request.headers();

            HttpResponseStatus failed = Preconditions.evaluate(requestHeaders, etag, lastModifiedSeconds);
            if (failed == HttpResponseStatus.NOT_MODIFIED) {
                HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, failed);
                response.headers().set(HttpHeaderNames.ETAG, etag).set(HttpHeaderNames.LAST_MODIFIED, lastModified);
                pass.encodeBody(response); // a 304 names the encoded representation by a weak ETag
                return sendHeadersOnly(ctx, request, response, pass, now);
            }
            if (failed != null) {
                return send(ctx, request, plain(ctx, failed, head), pass);
            }

            long start = 0;
            long count = size;
            HttpResponseStatus status = HttpResponseStatus.OK;
            List<String> ranges = requestHeaders.getAll(HttpHeaderNames.RANGE);
            if (!head
                    && ranges.size() == 1
                    && size > 0
                    && Preconditions.ifRangeHolds(
                            requestHeaders.getAll(HttpHeaderNames.IF_RANGE), etag, lastModifiedSeconds)) {
                long[] range = ByteRanges.parse(ranges.get(0), size);
                if (range == ByteRanges.UNSATISFIABLE) {
                    FullHttpResponse response = plain(ctx, HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE, false);
                    response.headers().set(HttpHeaderNames.CONTENT_RANGE, "bytes */" + size);
                    return send(ctx, request, response, pass);
                }
                if (range != null) {
                    status = HttpResponseStatus.PARTIAL_CONTENT;
                    start = range[0];
                    count = range[1] - range[0] + 1;
                }
            }

            HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
            HttpHeaders headers = response.headers();
            headers.set(HttpHeaderNames.CONTENT_TYPE, contentType(name))
                    .set(HttpHeaderNames.CONTENT_LENGTH, count)
                    .set(HttpHeaderNames.LAST_MODIFIED, lastModified)
                    .set(HttpHeaderNames.ETAG, etag)
                    .set(HttpHeaderNames.ACCEPT_RANGES, HttpHeaderValues.BYTES);
            if (status == HttpResponseStatus.PARTIAL_CONTENT) {
                headers.set(HttpHeaderNames.CONTENT_RANGE, "bytes " + start + "-" + (start + count - 1) + "/" + size);
            }
            ContentEncoder encoder = pass.encodeBody(response);
            if (head || count == 0) {
                return sendHeadersOnly(ctx, request, response, pass, now);
            }
            if (encoder != null) {
                // Encoded as it is read: chunks pulled while the connection is writable, no sendfile.
                addChunkedWriter(ctx);
                EncodedChunkedInput chunks;
                try {
                    chunks = new EncodedChunkedInput(new ChunkedNioFile(channel, start, count, 16 * 1024), encoder);
                } catch (IOException e) {
                    encoder.close();
                    return send(ctx, request, plain(ctx, HttpResponseStatus.NOT_FOUND, head), pass);
                }
                handedOff = true;
                HttpUtil.setTransferEncodingChunked(
                        response, request.protocolVersion().minorVersion() >= 1);
                addCommonHeaders(response, request, pass, now);
                ctx.write(response);
                return ctx.writeAndFlush(chunks);
            }

            if (ctx.pipeline().get(SslHandler.class) != null || ctx.channel().parent() != null) {
                // SslHandler must see the bytes, and an HTTP/2 stream's go out in its connection's DATA
                // frames, so no sendfile: the file goes out in chunks, read as the connection can take them
                // (ChunkedWriteHandler, added to this connection or stream on first use).
                addChunkedWriter(ctx);
                HttpChunkedInput chunks;
                try {
                    chunks = new HttpChunkedInput(new ChunkedNioFile(channel, start, count, 16 * 1024));
                } catch (IOException e) {
                    return send(ctx, request, plain(ctx, HttpResponseStatus.NOT_FOUND, head), pass);
                }
                handedOff = true;
                addCommonHeaders(response, request, pass, now);
                ctx.write(response);
                return ctx.writeAndFlush(chunks);
            }
            DefaultFileRegion region = new DefaultFileRegion(channel, start, count);
            handedOff = true;
            addCommonHeaders(response, request, pass, now);
            ctx.write(response);
            // From here on the pipeline owns the region: it is released (closing the file) after the transfer, or
            // when the write fails or the channel closes with it still queued.
            ctx.write(region);
            return ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        } finally {
            if (!handedOff) {
                closeQuietly(channel);
            }
        }
    }

    /**
     * Splits and percent-decodes the path, or returns null when it must be refused with 400; empty segments
     * (from {@code //} or the trailing slash) are dropped.
     */
    static List<String> decodePath(String path) {
        if (path.isEmpty()) {
            return List.of();
        }
        if (path.charAt(0) != '/') {
            return null;
        }
        List<String> segments = new ArrayList<>();
        int start = 1;
        while (start <= path.length()) {
            int end = path.indexOf('/', start);
            if (end < 0) {
                end = path.length();
            }
            if (end > start) {
                String segment = decodeSegment(path, start, end);
                if (segment == null) {
                    return null;
                }
                segments.add(segment);
            }
            start = end + 1;
        }
        return segments;
    }

    private static String decodeSegment(String path, int start, int end) {
        // Netty's request decoder maps each octet of the request line to one char (ISO-8859-1), so raw
        // non-ASCII octets are decoded together with the percent-encoded ones.
        byte[] octets = new byte[end - start];
        int n = 0;
        for (int i = start; i < end; i++) {
            char c = path.charAt(i);
            if (c == '%') {
                if (i + 2 >= end) {
                    return null;
                }
                int hi = Character.digit(path.charAt(i + 1), 16);
                int lo = Character.digit(path.charAt(i + 2), 16);
                if (hi < 0 || lo < 0) {
                    return null;
                }
                octets[n++] = (byte) (hi << 4 | lo);
                i += 2;
            } else if (c > 0xFF) {
                return null;
            } else {
                octets[n++] = (byte) c;
            }
        }
        String segment;
        try {
            // A strict decoder also rejects overlong forms such as %C0%AE, which would otherwise smuggle a dot.
            segment = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(octets, 0, n))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
        if (segment.equals(".")
                || segment.equals("..")
                || segment.indexOf('/') >= 0
                || segment.indexOf('\\') >= 0
                || segment.indexOf('\0') >= 0) {
            return null;
        }
        return segment;
    }

    static String contentType(String name) {
        int dot = name.lastIndexOf('.');
        if (dot < 0) {
            return OCTET_STREAM;
        }
        return CONTENT_TYPES.getOrDefault(name.substring(dot + 1).toLowerCase(Locale.ROOT), OCTET_STREAM);
    }

    /**
     * Redirects to the URL the client used plus a slash, so a route's prefix and query string survive and
     * relative links in the index resolve inside the directory.
     */
    private static ChannelFuture redirectToDirectory(
            ChannelHandlerContext ctx, HttpRequest request, boolean head, FinalHeadPass pass) {
        String uri = request.uri();
        int query = uri.indexOf('?');
        String target = query < 0 ? uri : uri.substring(0, query);
        String suffix = query < 0 ? "" : uri.substring(query);
        if (!target.startsWith("/")) {
            // absolute-form (RFC 9112 §3.2.2): keep only the path, which the client resolves against the same origin
            int scheme = target.indexOf("://");
            int slash = scheme < 0 ? -1 : target.indexOf('/', scheme + 3);
            target = slash < 0 ? "" : target.substring(slash);
        }
        // "//host/" would be read as a network-path reference and send the client to another host.
        int leading = 0;
        while (leading + 1 < target.length() && target.charAt(leading + 1) == '/') {
            leading++;
        }
        target = target.substring(leading);
        FullHttpResponse response = plain(ctx, HttpResponseStatus.MOVED_PERMANENTLY, head);
        response.headers().set(HttpHeaderNames.LOCATION, encodeUnsafe(target + "/" + suffix));
        return send(ctx, request, response, pass);
    }

    /**
     * Percent-encodes what may not appear raw in a URI or a header value (controls, space, non-ASCII), so a
     * Location copied from the request line is always a valid field value.
     */
    private static String encodeUnsafe(String uri) {
        StringBuilder out = new StringBuilder(uri.length());
        for (int i = 0; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c > ' ' && c < 0x7F) {
                out.append(c);
            } else if (c <= 0xFF) {
                // An octet of the request line, as the decoder mapped it (see decodeSegment).
                appendPercent(out, c);
            } else {
                for (byte b : String.valueOf(c).getBytes(StandardCharsets.UTF_8)) {
                    appendPercent(out, b & 0xFF);
                }
            }
        }
        return out.toString();
    }

    private static void appendPercent(StringBuilder out, int octet) {
        out.append('%')
                .append(Character.toUpperCase(Character.forDigit(octet >> 4, 16)))
                .append(Character.toUpperCase(Character.forDigit(octet & 0xF, 16)));
    }

    /** A response with a one-line text body; for HEAD the body is left out but its length kept. */
    private static FullHttpResponse plain(ChannelHandlerContext ctx, HttpResponseStatus status, boolean head) {
        String text = status.code() + " " + status.reasonPhrase() + "\n";
        ByteBuf body = head ? Unpooled.EMPTY_BUFFER : ByteBufUtil.writeAscii(ctx.alloc(), text);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, TEXT_PLAIN)
                .set(HttpHeaderNames.CONTENT_LENGTH, text.length());
        return response;
    }

    private static ChannelFuture send(
            ChannelHandlerContext ctx, HttpRequest request, FullHttpResponse response, FinalHeadPass pass) {
        addCommonHeaders(response, request, pass, System.currentTimeMillis());
        return ctx.writeAndFlush(response);
    }

    private static ChannelFuture sendHeadersOnly(
            ChannelHandlerContext ctx, HttpRequest request, HttpResponse response, FinalHeadPass pass, long now) {
        addCommonHeaders(response, request, pass, now);
        ctx.write(response);
        return ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    private static void addCommonHeaders(HttpResponse response, HttpRequest request, FinalHeadPass pass, long now) {
        response.headers().set(HttpHeaderNames.DATE, DateFormatter.format(new Date(now)));
        pass.finishHead(response);
    }

    /** ChunkedWriteHandler, added to a connection the first time it sends a file in chunks. */
    private static void addChunkedWriter(ChannelHandlerContext ctx) {
        if (ctx.pipeline().get(ChunkedWriteHandler.class) == null) {
            ctx.pipeline().addBefore(ctx.name(), "chunked-writer", new ChunkedWriteHandler());
        }
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Nothing was written to the file, so a failing close loses nothing.
        }
    }
}
