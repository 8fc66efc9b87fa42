package io.flotilla.cluster.jgroups;

import static io.flotilla.cluster.Eventually.eventually;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.cluster.ClusterSettings;
import io.flotilla.cluster.membership.Member;
import io.flotilla.cluster.security.FleetKeys;
import io.flotilla.cluster.security.Outsiders;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Gossip sealed with the fleet key: who can join, who cannot, and a key rotated member by member. */
class GossipSealTest {

    private static final String OLD = FleetKeys.generate();
    private static final String NEW = FleetKeys.generate();

    private final String fleet = "seal-" + UUID.randomUUID().toString().substring(0, 8);
    private final List<FleetGossip> started = new ArrayList<>();
    private final Map<FleetGossip, Outsiders> outsiders = new HashMap<>();

    @AfterEach
    void closeAll() {
        started.forEach(FleetGossip::close);
    }

    private FleetGossip join(String id, FleetKeys keys, List<FleetGossip> peers) {
        Outsiders seen = new Outsiders();
        FleetGossip g = FleetGossip.join(
                ClusterSettings.builder()
                        .name(fleet)
                        .memberId(id)
                        .bindHost("127.0.0.1")
                        .port(0)
                        .gossipPort(0)
                        .peers(peers.stream().map(FleetGossip::gossipAddress).toList())
                        .failureTimeout(Duration.ofSeconds(2))
                        .mergeInterval(Duration.ofSeconds(2))
                        .keys(keys)
                        .build(),
                seen);
        started.add(g);
        outsiders.put(g, seen);
        return g;
    }

    private static FleetKeys keys(String... encoded) {
        return FleetKeys.decode(List.of(encoded));
    }

    private long refused(FleetGossip... members) {
        long n = 0;
        for (FleetGossip m : members) {
            n += outsiders.get(m).count(Outsiders.Kind.GOSSIP);
        }
        return n;
    }

    private static List<String> ids(FleetGossip g) {
        return g.members().stream().map(Member::id).toList();
    }

    private static void awaitView(List<String> expected, FleetGossip... members) {
        for (FleetGossip m : members) {
            eventually(
                    Duration.ofSeconds(20),
                    () -> assertEquals(expected, ids(m), "view of " + m.self().id()));
        }
    }

    @Test
    void aMemberWithoutTheKeyNeitherJoinsNorLearnsAnything() throws Exception {
        FleetGossip a = join("a", keys(OLD), List.of());
        FleetGossip b = join("b", keys(OLD), List.of(a));
        awaitView(List.of("a", "b"), a, b);

        FleetGossip plain = join("plain", FleetKeys.none(), List.of(a, b)); // stock JGroups stack, no seal
        FleetGossip wrong = join("wrong", keys(NEW), List.of(a, b)); // sealed, with another key
        eventually(Duration.ofSeconds(10), () -> assertTrue(refused(a, b) > 0, "outsiders noticed"));
        long before = refused(a, b);
        Thread.sleep(3 * 2000); // three merge rounds: the outsiders keep trying and are dropped every time
        assertEquals(List.of("a", "b"), ids(a));
        assertEquals(List.of("a", "b"), ids(b));
        assertEquals(List.of("plain"), ids(plain), "the keyless member learnt no member");
        assertEquals(List.of("wrong"), ids(wrong), "the member with another key learnt no member");
        assertTrue(refused(a, b) > before, "every attempt is dropped and counted");
        List<Outsiders.Refusal> recent = outsiders.get(a).recent();
        assertTrue(
                recent.size() >= 2
                        && recent.stream()
                                .allMatch(r -> r.kind() == Outsiders.Kind.GOSSIP
                                        && r.from().startsWith("jgroups ")),
                "both outsiders listed: " + recent);

        FleetGossip c = join("c", keys(OLD), List.of(a));
        awaitView(List.of("a", "b", "c"), a, b, c);
    }

    @Test
    void aKeyIsRotatedMemberByMemberWithoutASplit() {
        FleetGossip a = join("a", keys(OLD), List.of());
        FleetGossip b = join("b", keys(OLD, NEW), List.of(a)); // step 1: the new key accepted everywhere
        awaitView(List.of("a", "b"), a, b);
        a.close();
        FleetGossip c = join("c", keys(NEW, OLD), List.of(b)); // step 2: the new key seals, the old still opens
        awaitView(List.of("b", "c"), b, c);
        b.close();
        FleetGossip d = join("d", keys(NEW), List.of(c)); // step 3: the old key retired
        awaitView(List.of("c", "d"), c, d);
        assertEquals(0, refused(c, d), "nothing was dropped during the change");
    }
}
