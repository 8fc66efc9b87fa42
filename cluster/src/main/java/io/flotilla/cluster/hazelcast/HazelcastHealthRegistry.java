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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Health in a replicated map: every member holds a full copy, so reads are local; a write reaches
 * the others asynchronously, typically within milliseconds. Probe ownership hashes over the gossip
 * view, which every member sees alike once it settles.
 */
final class HazelcastHealthRegistry implements HealthRegistry {

  private final ReplicatedMap<String, BackendHealth> states;
  private final Membership membership;
  private final int probeOwners;
  private final Listeners<BackendHealth> listeners = new Listeners<>("health");
  private final UUID registration;
  private final HazelcastInstance hz;

  HazelcastHealthRegistry(HazelcastInstance hz, Membership membership, int probeOwners) {
    this.hz = hz;
    this.states = hz.getReplicatedMap(MemberConfig.HEALTH);
    this.membership = membership;
    this.probeOwners = probeOwners;
    this.registration = states.addEntryListener(new EntryAdapter<>() {
      @Override
      public void onEntryEvent(EntryEvent<String, BackendHealth> e) {
        if (e.getValue() != null) {
          listeners.fire(e.getValue());
        }
      }
    });
  }

  @Override
  public BackendHealth health(String backendId) {
    return states.get(backendId);
  }

  @Override
  public Map<String, BackendHealth> snapshot() {
    return Map.copyOf(new HashMap<>(states));
  }

  @Override
  public boolean report(String backendId, boolean up, String reason) {
    BackendHealth old = states.get(backendId);
    if (old != null && old.up() == up) {
      return false; // nothing changed: no write, no replication traffic
    }
    states.put(backendId, new BackendHealth(backendId, up, System.currentTimeMillis(), membership.self().id(), reason));
    return true;
  }

  @Override
  public Runnable onChange(Consumer<BackendHealth> listener) {
    return listeners.add(listener);
  }

  @Override
  public List<String> probeOwners(String backendId, int k) {
    return ProbeOwners.choose(backendId, membership.members().stream().map(Member::id).toList(), k);
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
