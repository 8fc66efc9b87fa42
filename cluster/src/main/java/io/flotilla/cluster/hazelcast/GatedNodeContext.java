package io.flotilla.cluster.hazelcast;

import com.hazelcast.instance.EndpointQualifier;
import com.hazelcast.instance.impl.DefaultNodeContext;
import com.hazelcast.instance.impl.DefaultNodeExtension;
import com.hazelcast.instance.impl.Node;
import com.hazelcast.instance.impl.NodeExtension;
import com.hazelcast.nio.MemberSocketInterceptor;

/**
 * Starts the embedded member with {@link MemberGate} on every connection. The open-source member
 * has the hook (its node extension's socket interceptor) but answers it with "Enterprise only";
 * this context supplies a node extension that answers with the gate. Hazelcast internals
 * ({@code com.hazelcast.instance.impl}): checked against 5.7 by {@code MemberGateTest}, which fails
 * if an upgrade stops calling the gate.
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
    };
  }
}
