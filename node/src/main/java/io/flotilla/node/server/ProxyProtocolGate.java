package io.flotilla.node.server;

import io.flotilla.node.config.Cidr;
import io.flotilla.node.proxy.ProxyHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * First handler of a listener that takes the PROXY protocol (v1 or v2, as HAProxy's
 * {@code accept-proxy}): the connection must come from a trusted front and start with a PROXY header,
 * whose source address then stands for the client everywhere (forwarding headers, logs, limits). Any
 * other peer is disconnected before a byte is parsed. Removes itself once the header is read.
 */
final class ProxyProtocolGate extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = Logger.getLogger(ProxyProtocolGate.class.getName());

    private final List<Cidr> trusted;

    ProxyProtocolGate(List<Cidr> trusted) {
        this.trusted = trusted;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        InetSocketAddress peer = (InetSocketAddress) ctx.channel().remoteAddress();
        if (peer == null
                || peer.getAddress() == null
                || trusted.stream().noneMatch(c -> c.contains(peer.getAddress()))) {
            LOG.log(Level.FINE, () -> "PROXY protocol from untrusted peer " + peer + ": closed");
            ctx.close();
            return;
        }
        ctx.pipeline().addBefore(ctx.name(), "proxy-protocol-decoder", new HAProxyMessageDecoder());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HAProxyMessage message)) {
            ctx.fireChannelRead(msg);
            return;
        }
        try {
            // LOCAL is the front's own health check: the peer's address stands.
            if (message.command() == HAProxyCommand.PROXY && message.sourceAddress() != null) {
                ctx.channel()
                        .attr(ProxyHandler.CLIENT_ADDRESS)
                        .set(new InetSocketAddress(message.sourceAddress(), message.sourcePort()));
            }
        } finally {
            message.release();
        }
        ctx.pipeline().remove(this);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.log(Level.FINE, "bad PROXY protocol header from " + ctx.channel().remoteAddress(), cause);
        ctx.close();
    }
}
