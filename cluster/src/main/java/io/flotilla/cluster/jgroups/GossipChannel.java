package io.flotilla.cluster.jgroups;

import io.flotilla.cluster.ClusterSettings;
import io.flotilla.cluster.Listeners;
import io.flotilla.cluster.membership.Member;
import io.flotilla.cluster.membership.MemberState;
import io.flotilla.cluster.security.Outsiders;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.jgroups.Address;
import org.jgroups.BytesMessage;
import org.jgroups.Event;
import org.jgroups.JChannel;
import org.jgroups.Message;
import org.jgroups.PhysicalAddress;
import org.jgroups.Receiver;
import org.jgroups.View;
import org.jgroups.protocols.DISCARD;
import org.jgroups.protocols.FD_ALL3;
import org.jgroups.protocols.FD_SOCK2;
import org.jgroups.protocols.FRAG2;
import org.jgroups.protocols.MERGE3;
import org.jgroups.protocols.MFC;
import org.jgroups.protocols.MPING;
import org.jgroups.protocols.TCP;
import org.jgroups.protocols.TCPPING;
import org.jgroups.protocols.UNICAST3;
import org.jgroups.protocols.VERIFY_SUSPECT;
import org.jgroups.protocols.dns.DNS_PING;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.protocols.pbcast.NAKACK2;
import org.jgroups.protocols.pbcast.STABLE;
import org.jgroups.stack.Protocol;
import org.jgroups.stack.ProtocolStack;

/**
 * A JGroups channel over TCP whose view, plus each member's announcement, is the fleet's
 * membership. Every member announces itself again on every view change, so a newcomer learns
 * everyone within one round and a merged view is complete without a state transfer.
 */
final class GossipChannel implements FleetGossip, Receiver {

    private static final Logger LOG = Logger.getLogger(GossipChannel.class.getName());

    private final JChannel channel;
    private final TCPPING tcpping; // null unless discovery is STATIC
    private final GossipSeal seal; // null for a fleet without a secret
    private final Map<Address, Member> announced = new ConcurrentHashMap<>();
    private final Listeners<List<Member>> listeners = new Listeners<>("membership");
    private volatile Member self;
    private volatile View view;
    private volatile boolean closed;
    private volatile Future<?> reannounce;

    private GossipChannel(ClusterSettings s, Outsiders outsiders) throws Exception {
        this.self = new Member(s.memberId(), "", MemberState.SERVING);
        InetAddress bind = InetAddress.getByName(s.bindHost());
        Protocol discovery;
        if (s.discovery() == ClusterSettings.Discovery.STATIC) {
            // port_range 0: peers are listed with their exact ports; probing neighbours only adds noise.
            // return_entire_cache: a member learns every member's address from any peer it asks, so two
            // members that each know only the first one (the demo, tests, a fleet grown one by one) still
            // find each other.
            tcpping = new PeerListPing().setInitialHosts(resolve(s.peers())).setPortRange(0);
            tcpping.returnEntireCache(true);
            discovery = tcpping;
        } else if (s.discovery() == ClusterSettings.Discovery.DNS) {
            tcpping = null;
            discovery = new DNS_PING().setDNSQuery(s.dnsQuery());
        } else {
            tcpping = null;
            discovery = new MPING().setBindAddr(bind);
        }
        long failMs = s.failureTimeout().toMillis();
        long mergeMs = s.mergeInterval().toMillis();
        // Built in code rather than from XML: every timeout derives from the settings, nothing is
        // substituted from system properties, and a typo is a compile error, not a silent default.
        seal = s.keys().enabled() ? new GossipSeal(s.keys(), s.name(), outsiders) : null;
        List<Protocol> stack = new ArrayList<>(List.of(
                new TCP().setBindAddress(bind).setBindPort(s.gossipPort()).setPortRange(0),
                discovery,
                new MERGE3().setMinInterval(Math.max(500, mergeMs / 3)).setMaxInterval(Math.max(1000, mergeMs)),
                new FD_SOCK2().setBindAddress(bind).setPortRange(5), // a crashed process is noticed at once
                new FD_ALL3().setTimeout(failMs).setInterval(Math.max(250, failMs / 5)), // a hung or cut one, in failMs
                new VERIFY_SUSPECT().setTimeout(Math.max(500, failMs / 4)),
                new NAKACK2(),
                new UNICAST3(),
                new STABLE(),
                new GMS()
                        .setJoinTimeout(Math.min(2000, failMs / 2))
                        .setMaxJoinAttempts(3)
                        .printLocalAddress(false),
                new MFC(),
                new FRAG2()));
        if (seal != null) {
            stack.add(1, seal); // right above the transport: every message, discovery included, sealed whole
        }
        channel = new JChannel(stack);
        channel.name(s.memberId());
        channel.setReceiver(this);
    }

    static GossipChannel join(ClusterSettings settings, Outsiders outsiders) {
        try {
            GossipChannel g = new GossipChannel(settings, outsiders);
            g.channel.connect(settings.name());
            g.viewAccepted(g.channel.getView());
            // Announcing on view changes alone is not enough: after a merge a member's announcement can
            // arrive before the receiver installs the merged view (and is dropped as from a stranger).
            // Re-announcing every third of the failure timeout repairs that and any other loss.
            long every = Math.max(500, settings.failureTimeout().toMillis() / 3);
            g.reannounce = g.channel
                    .getProtocolStack()
                    .getTransport()
                    .getTimer()
                    .scheduleWithFixedDelay(g::announce, every, every, TimeUnit.MILLISECONDS);
            return g;
        } catch (Exception e) {
            throw new IllegalStateException(
                    "cluster: cannot join gossip channel '" + settings.name() + "' on " + settings.bindHost() + ":"
                            + settings.gossipPort() + ": " + e.getMessage(),
                    e);
        }
    }

    private static List<InetSocketAddress> resolve(List<String> hostPorts) throws UnknownHostException {
        List<InetSocketAddress> out = new ArrayList<>();
        for (String hp : hostPorts) {
            int colon = hp.lastIndexOf(':');
            out.add(new InetSocketAddress(
                    InetAddress.getByName(hp.substring(0, colon)), Integer.parseInt(hp.substring(colon + 1))));
        }
        return out;
    }

    @Override
    public Member self() {
        return self;
    }

    @Override
    public List<Member> members() {
        View v = view;
        List<Member> out = new ArrayList<>();
        if (v != null) {
            for (Address a : v.getMembers()) {
                Member m = a.equals(channel.getAddress()) ? self : announced.get(a);
                if (m != null) { // a member that has not announced itself yet is not usable: no id to hash on
                    out.add(m);
                }
            }
        }
        if (out.stream().noneMatch(m -> m.id().equals(self.id()))) {
            out.add(self);
        }
        out.sort(Comparator.comparing(Member::id));
        return List.copyOf(out);
    }

    @Override
    public void setState(MemberState state) {
        self = new Member(self.id(), self.address(), state);
        announce();
        fire();
    }

    @Override
    public void advertise(String address) {
        self = new Member(self.id(), address, self.state());
        announce();
        fire();
    }

    @Override
    public String gossipAddress() {
        PhysicalAddress pa =
                (PhysicalAddress) channel.down(new Event(Event.GET_PHYSICAL_ADDRESS, channel.getAddress()));
        return pa.printIpAddress();
    }

    @Override
    public void addPeers(List<String> hostPorts) {
        if (tcpping == null) {
            throw new IllegalStateException("cluster: peers can be added only with STATIC discovery");
        }
        try {
            Set<InetSocketAddress> all = new LinkedHashSet<>(tcpping.getInitialHosts().stream()
                    .map(pa -> new InetSocketAddress(
                            ((org.jgroups.stack.IpAddress) pa).getIpAddress(),
                            ((org.jgroups.stack.IpAddress) pa).getPort()))
                    .toList());
            all.addAll(resolve(hostPorts));
            tcpping.setInitialHosts(all);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cluster: unknown peer host: " + e.getMessage(), e);
        }
    }

    @Override
    public void fallSilent() {
        try {
            channel.getProtocolStack()
                    .insertProtocol(new DISCARD().discardAll(true), ProtocolStack.Position.ABOVE, TCP.class);
        } catch (Exception e) {
            throw new IllegalStateException("cluster: cannot silence the gossip channel", e);
        }
    }

    @Override
    public Runnable onChange(Consumer<List<Member>> listener) {
        return listeners.add(listener);
    }

    @Override
    public void viewAccepted(View v) {
        if (v == null) {
            return;
        }
        view = v;
        announced.keySet().retainAll(v.getMembers());
        announce(); // newcomers (and the other half after a merge) learn about us from this
        fire();
    }

    @Override
    public void receive(Message msg) {
        Member m = Announcement.decode(msg.getArray(), msg.getOffset(), msg.getLength());
        if (m == null || msg.getSrc() == null || msg.getSrc().equals(channel.getAddress())) {
            return;
        }
        View v = view;
        if (v != null && !v.containsMember(msg.getSrc())) {
            return; // a late message from a member already gone must not bring it back
        }
        Member old = announced.put(msg.getSrc(), m);
        if (!m.equals(old)) {
            fire();
        }
    }

    private void announce() {
        if (closed || !channel.isConnected()) {
            return;
        }
        try {
            channel.send(new BytesMessage(null, Announcement.encode(self)));
        } catch (Exception e) {
            LOG.log(Level.FINE, "announcement not sent", e); // the next view change sends it again
        }
    }

    private void fire() {
        listeners.fire(members());
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        listeners.clear();
        if (reannounce != null) {
            reannounce.cancel(false);
        }
        channel.close();
    }
}
