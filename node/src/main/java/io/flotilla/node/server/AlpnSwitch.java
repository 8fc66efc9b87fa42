package io.flotilla.node.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;

/**
 * On a TLS listener that offers HTTP/2, sits after the TLS handler until the handshake is done and
 * then builds the rest of the pipeline for the protocol ALPN agreed on (RFC 7301): {@code h2}, or
 * HTTP/1.1 (also for clients that sent no ALPN). It removes itself then, so an HTTP/1.1 connection's
 * requests pass the same handlers as on a listener without HTTP/2.
 */
final class AlpnSwitch extends ChannelInboundHandlerAdapter {
    private final FrontendInitializer frontend;

    AlpnSwitch(FrontendInitializer frontend) {
        this.frontend = frontend;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.fireChannelActive();
        ctx.read(); // the handshake's first bytes; the TLS handler reads on until it is done
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof SslHandshakeCompletionEvent done && done.isSuccess()) {
            SslHandler tls = ctx.pipeline().get(SslHandler.class);
            if (tls != null && ApplicationProtocolNames.HTTP_2.equals(tls.applicationProtocol())) {
                frontend.installHttp2(ctx.channel(), "h2");
            } else {
                frontend.installHttp1(ctx.channel());
                ctx.fireChannelActive(); // to the handlers just added, which start reading requests on it
            }
            ctx.pipeline().remove(this);
        }
        ctx.fireUserEventTriggered(evt);
    }
}
