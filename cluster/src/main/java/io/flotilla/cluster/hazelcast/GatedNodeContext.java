package io.flotilla.cluster.hazelcast;

import com.hazelcast.instance.EndpointQualifier;
import com.hazelcast.instance.impl.DefaultNodeContext;
import com.hazelcast.instance.impl.DefaultNodeExtension;
import com.hazelcast.instance.impl.Node;
import com.hazelcast.instance.impl.NodeExtension;
import com.hazelcast.internal.networking.ChannelInitializer;
import com.hazelcast.internal.server.ServerContext;
import com.hazelcast.nio.MemberSocketInterceptor;
import io.flotilla.cluster.security.RecordCipher;
import java.io.IOException;
import java.util.function.Function;

/**
 * Starts the embedded member with {@link MemberGate} on every connection and the connection's
 * traffic encrypted with the keys its handshake agreed ({@link MemberStreamCipher}: first inbound,
 * last outbound, around whatever Hazelcast's own channel initializer sets up). The open-source member
 * has both hooks (its node extension's socket interceptor and channel initializers) but answers the
 * first with "Enterprise only"; this context supplies a node extension that answers with the gate.
 * Hazelcast internals ({@code com.hazelcast.instance.impl}, {@code internal.networking}): checked
 * against 5.7 by {@code MemberGateTest}, which fails if an upgrade stops calling the gate.
 */
final class GatedNodeContext extends DefaultNodeContext {

    private final MemberGate gate;

    GatedNodeContext(MemberGate gate) {
        this.gate = gate;
    }

    @Override
    public NodeExtension createNodeExtension(Node node) {
        return new DefaultNodeExtension(node) {
            @Override
            public MemberSocketInterceptor getSocketInterceptor(EndpointQualifier qualifier) {
                return gate;
            }

            @Override
            public Function<EndpointQualifier, ChannelInitializer> createChannelInitializerFn(ServerContext context) {
                Function<EndpointQualifier, ChannelInitializer> stock = super.createChannelInitializerFn(context);
                return qualifier -> encrypted(stock.apply(qualifier));
            }
        };
    }

    private ChannelInitializer encrypted(ChannelInitializer stock) {
        return channel -> {
            RecordCipher[] ciphers = gate.take(channel.socket());
            if (ciphers == null) {
                throw new IOException("flotilla: a member connection without a gate handshake");
            }
            channel.inboundPipeline().addLast(new MemberStreamCipher.Decoder(ciphers[1]));
            stock.initChannel(channel);
            channel.outboundPipeline().addLast(new MemberStreamCipher.Encoder(ciphers[0]));
        };
    }
}
