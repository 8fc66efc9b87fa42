package io.flotilla.node.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * One connection to an origin server, and the last handler of its pipeline: it relays events to the
 * exchange using it, or, while the connection idles in the pool, closes it on anything unexpected.
 */
public final class UpstreamConnection extends ChannelInboundHandlerAdapter {
    private final UpstreamServer server;
    private final long createdNanos = System.nanoTime();
    private Channel channel;
    private UpstreamListener listener;
    private ConnectionPool idleIn;
    private long idleDeadline;
    private Throwable failure;
    private int requests;
    private boolean multiplexed;

    UpstreamConnection(UpstreamServer server) {
        this.server = server;
    }

    /** One per connection; said here so that adding it skips Netty's per-class lookup (issue 16). */
    @Override
    public boolean isSharable() {
        return false;
    }

    public UpstreamServer server() {
        return server;
    }

    public Channel channel() {
        return channel;
    }

    /** Whether this is one stream of an HTTP/2 connection (never pooled: released means closed). */
    public boolean multiplexed() {
        return multiplexed;
    }

    void multiplexed(boolean multiplexed) {
        this.multiplexed = multiplexed;
    }

    /** Requests started on this connection; above 1 means it was reused from the pool. */
    public int requests() {
        return requests;
    }

    long ageNanos() {
        return System.nanoTime() - createdNanos;
    }

    /** Hands the connection to an exchange for one request. */
    public void attach(UpstreamListener listener) {
        this.listener = listener;
        this.requests++;
    }

    void detach() {
        this.listener = null;
    }

    void idleIn(ConnectionPool pool, long deadlineNanos) {
        this.idleIn = pool;
        this.idleDeadline = deadlineNanos;
        server.idled(1);
    }

    long idleDeadline() {
        return idleDeadline;
    }

    void leavePool() {
        if (idleIn != null) {
            idleIn = null;
            server.idled(-1);
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        server.opened(1);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (listener != null) {
            listener.onUpstreamRead(this, msg);
        } else {
            // Bytes nobody asked for: the connection's framing can no longer be trusted.
            ReferenceCountUtil.release(msg);
            ctx.close();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (listener != null) {
            listener.onUpstreamReadComplete(this);
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (listener != null) {
            listener.onUpstreamWritabilityChanged(this);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        server.opened(-1);
        if (idleIn != null) {
            idleIn.remove(this);
        }
        UpstreamListener current = listener;
        listener = null;
        if (current != null) {
            current.onUpstreamClosed(this, failure);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (failure == null) {
            failure = cause;
        }
        ctx.close();
    }
}
