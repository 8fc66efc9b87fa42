package io.flotilla.node.proxy;

import io.flotilla.node.cache.CacheFlow;
import io.flotilla.node.compress.Coding;
import io.flotilla.node.compress.ContentEncoder;
import io.flotilla.node.compress.ResponseCompression;
import io.flotilla.node.http.ForwardingHeaders;
import io.flotilla.node.upstream.ConnectionPool;
import io.flotilla.node.upstream.Upstream;
import io.flotilla.node.upstream.UpstreamConnection;
import io.flotilla.node.upstream.UpstreamListener;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A revalidation with no client waiting for it (stale-while-revalidate, RFC 5861 §3): one GET
 * upstream, conditional when the stored response has validators, whose result refreshes or replaces
 * the stored entry. The client already has its stale answer; this only keeps the cache warm. Runs on
 * the event loop of the connection that triggered it, with that loop's upstream pool.
 */
final class BackgroundRefresh implements UpstreamListener {
    private final ConnectionPool pool;
    private final Upstream upstream;
    private final ServerSelection selection;
    private final CacheFlow flow;
    /** The coding the refreshed variant is stored in (its key's Accept-Encoding), or null off compressing routes. */
    private final ResponseCompression compression;

    private final Coding coding;
    private ContentEncoder encoder;
    private UpstreamConnection connection;
    private ScheduledFuture<?> timeout;
    private boolean dropBody;
    private boolean reusable;
    private boolean done;

    private BackgroundRefresh(
            ConnectionPool pool,
            Upstream upstream,
            ServerSelection selection,
            CacheFlow flow,
            ResponseCompression compression,
            Coding coding) {
        this.pool = pool;
        this.upstream = upstream;
        this.selection = selection;
        this.flow = flow;
        this.compression = compression;
        this.coding = coding;
    }

    /**
     * Sends {@code request} (built by the exchange that served the stale entry, as its own would be)
     * to the server {@code selection} picked, and gives the answer to {@code flow}, encoded in
     * {@code coding} as the exchange's own response would be (null: not a compressing route).
     */
    static void start(
            ConnectionPool pool,
            Upstream upstream,
            ServerSelection selection,
            HttpRequest request,
            CacheFlow flow,
            EventLoop loop,
            Duration timeout,
            ResponseCompression compression,
            Coding coding) {
        BackgroundRefresh refresh = new BackgroundRefresh(pool, upstream, selection, flow, compression, coding);
        refresh.timeout = loop.schedule(() -> refresh.end(false), timeout.toMillis(), TimeUnit.MILLISECONDS);
        Future<UpstreamConnection> acquired = pool.acquire(upstream, selection.server(), false);
        acquired.addListener((Future<UpstreamConnection> f) -> {
            if (!f.isSuccess()) {
                refresh.end(false);
                return;
            }
            if (refresh.done) {
                pool.release(f.getNow(), false, upstream);
                return;
            }
            refresh.connection = f.getNow();
            refresh.connection.attach(refresh);
            refresh.connection.channel().write(request);
            refresh.connection.channel().writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            refresh.connection.channel().read();
        });
    }

    @Override
    public void onUpstreamRead(UpstreamConnection from, Object msg) {
        if (done || from != connection) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse response) {
            if (response.decoderResult().isFailure() || response.status().code() < 200) {
                ReferenceCountUtil.release(msg);
                end(false);
                return;
            }
            reusable = io.netty.handler.codec.http.HttpUtil.isKeepAlive(response);
            ForwardingHeaders.stripHopByHop(response.headers()); // as on the request path: none are stored
            if (coding != null) {
                encoder = compression.begin(coding, response, false);
            }
            // A 304 refreshes the stored entry here; anything else is offered to the cache as a new response.
            dropBody = flow.onResponseHead(response);
        }
        if (msg instanceof HttpContent content) {
            try {
                if (content.decoderResult().isFailure()) {
                    end(false);
                    return;
                }
                if (!dropBody) {
                    if (encoder != null) {
                        HttpContent encoded = encoder.encode(content.retain());
                        flow.onBodyPart(encoded.content());
                        encoded.release();
                    } else {
                        flow.onBodyPart(content.content());
                    }
                }
                if (content instanceof LastHttpContent) {
                    if (!dropBody) {
                        flow.onResponseEnd();
                    }
                    end(reusable);
                }
            } finally {
                content.release();
            }
        }
    }

    @Override
    public void onUpstreamReadComplete(UpstreamConnection from) {
        if (!done && from == connection) {
            from.channel().read();
        }
    }

    @Override
    public void onUpstreamWritabilityChanged(UpstreamConnection from) {}

    @Override
    public void onUpstreamClosed(UpstreamConnection from, Throwable cause) {
        if (from == connection) {
            connection = null;
            end(false);
        }
    }

    private void end(boolean connectionReusable) {
        if (done) {
            return;
        }
        done = true;
        timeout.cancel(false);
        if (encoder != null) {
            encoder.close();
        }
        if (connection != null) {
            UpstreamConnection c = connection;
            connection = null;
            pool.release(c, connectionReusable, upstream);
        }
        selection.end();
        flow.finish();
    }
}
