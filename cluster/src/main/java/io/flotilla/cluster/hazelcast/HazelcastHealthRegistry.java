package io.flotilla.cluster.hazelcast;

import com.hazelcast.core.EntryAdapter;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.replicatedmap.ReplicatedMap;
import io.flotilla.cluster.Listeners;
import io.flotilla.cluster.health.BackendHealth;
import io.flotilla.cluster.health.HealthRegistry;
import io.flotilla.cluster.health.ProbeOwners;
import io.flotilla.cluster.membership.Member;
import io.flotilla.cluster.membership.Membership;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Health in a replicated map: every member holds a full copy, so reads are local; a write reaches
 * the others asynchronously, typically within milliseconds. Probe ownership hashes over the gossip
 * view, which every member sees alike once it settles. Verdicts are sealed with the fleet key
 * ({@link ValueSeal}): one that does not verify is ignored, as if absent, and counted.
 */
final class HazelcastHealthRegistry implements HealthRegistry {

    private final ReplicatedMap<String, byte[]> states;
    private final ValueSeal seal;
    private final Membership membership;
    private final int probeOwners;
    private final Listeners<BackendHealth> listeners = new Listeners<>("health");
    private final UUID registration;
    private final HazelcastInstance hz;

    HazelcastHealthRegistry(HazelcastInstance hz, Membership membership, int probeOwners, ValueSeal seal) {
        this.hz = hz;
        this.seal = seal;
        this.states = hz.getReplicatedMap(MemberConfig.HEALTH);
        this.membership = membership;
        this.probeOwners = probeOwners;
        this.registration = states.addEntryListener(new EntryAdapter<>() {
            @Override
            public void onEntryEvent(EntryEvent<String, byte[]> e) {
                BackendHealth h = open(e.getKey(), e.getValue());
                if (h != null) {
                    listeners.fire(h);
                }
            }
        });
    }

    /**
     * The verdict; one sealed with an older key during a rotation is sealed again with the current key
     * (probers ask every interval, so every verdict is re-sealed before the old key is retired).
     */
    @Override
    public BackendHealth health(String backendId) {
        byte[] raw = states.get(backendId);
        BackendHealth h = open(backendId, raw);
        if (h != null && seal.sealedWithOlderKey(raw)) {
            states.put(backendId, seal(h));
        }
        return h;
    }

    @Override
    public Map<String, BackendHealth> snapshot() {
        Map<String, BackendHealth> out = new HashMap<>();
        for (Map.Entry<String, byte[]> e : states.entrySet()) {
            BackendHealth h = open(e.getKey(), e.getValue());
            if (h != null) {
                out.put(e.getKey(), h);
            }
        }
        return Map.copyOf(out);
    }

    /** The verdict, or null if absent or not sealed by a member with the fleet key (or not for this backend). */
    private BackendHealth open(String backendId, byte[] sealed) {
        byte[] plain = seal.open(sealed, MemberConfig.HEALTH, backendId);
        if (plain == null) {
            return null;
        }
        try {
            DataInputStream in = new DataInputStream(new ByteArrayInputStream(plain));
            BackendHealth h =
                    new BackendHealth(in.readUTF(), in.readBoolean(), in.readLong(), in.readUTF(), in.readUTF());
            return h.backendId().equals(backendId) ? h : null;
        } catch (IOException e) {
            return null; // verified but unreadable: only a member with the key and a bug could write it
        }
    }

    private byte[] seal(BackendHealth h) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeUTF(h.backendId());
            out.writeBoolean(h.up());
            out.writeLong(h.since());
            out.writeUTF(h.reporter());
            out.writeUTF(h.reason());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return seal.seal(bytes.toByteArray(), MemberConfig.HEALTH, h.backendId());
    }

    @Override
    public boolean report(String backendId, boolean up, String reason) {
        BackendHealth old = health(backendId);
        if (old != null && old.up() == up) {
            return false; // nothing changed: no write, no replication traffic
        }
        states.put(
                backendId,
                seal(new BackendHealth(
                        backendId,
                        up,
                        System.currentTimeMillis(),
                        membership.self().id(),
                        reason)));
        return true;
    }

    @Override
    public Runnable onChange(Consumer<BackendHealth> listener) {
        return listeners.add(listener);
    }

    @Override
    public List<String> probeOwners(String backendId, int k) {
        return ProbeOwners.choose(
                backendId, membership.members().stream().map(Member::id).toList(), k);
    }

    @Override
    public boolean isProbeOwner(String backendId) {
        return probeOwners(backendId, probeOwners).contains(membership.self().id());
    }

    @Override
    public void close() {
        listeners.clear();
        if (hz.getLifecycleService().isRunning()) {
            states.removeEntryListener(registration);
        }
    }
}
