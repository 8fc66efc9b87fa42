package io.flotilla.node.upstream;

import io.flotilla.node.config.PoolConfig;
import io.flotilla.node.config.UpstreamConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A named pool of origin servers with its balancer. Weighted round robin is precomputed as one
 * smooth schedule (NGINX's smooth weighted algorithm: weights 5,1,1 give a a b a c a a, never a
 * burst to the heaviest), then walked by an atomic counter: no lock, shared by all event loops.
 */
public final class Upstream {
    private static final int MAX_SCHEDULE = 4096;

    private final String name;
    private final List<UpstreamServer> servers;
    private final PoolConfig pool;
    private final UpstreamServer[] schedule;
    private final AtomicLong next = new AtomicLong();

    private Upstream(String name, List<UpstreamServer> servers, PoolConfig pool) {
        this.name = name;
        this.servers = List.copyOf(servers);
        this.pool = pool;
        this.schedule = smoothSchedule(this.servers);
    }

    public static Upstream of(UpstreamConfig config) {
        List<UpstreamServer> servers = new ArrayList<>();
        for (UpstreamConfig.ServerConfig server : config.servers()) {
            servers.add(new UpstreamServer(config.name(), server.address(), server.weight()));
        }
        return new Upstream(config.name(), servers, config.pool());
    }

    public String name() {
        return name;
    }

    public List<UpstreamServer> servers() {
        return servers;
    }

    public PoolConfig pool() {
        return pool;
    }

    /** The next server in the schedule, or null when no server has a weight above zero. */
    public UpstreamServer pick() {
        if (schedule.length == 0) {
            return null;
        }
        return schedule[(int) Math.floorMod(next.getAndIncrement(), (long) schedule.length)];
    }

    /** The next server other than {@code avoid}, for a retry; {@code avoid} itself when it is the only one. */
    public UpstreamServer pickOther(UpstreamServer avoid) {
        for (int i = 0; i < schedule.length; i++) {
            UpstreamServer server = pick();
            if (server != avoid) {
                return server;
            }
        }
        return avoid;
    }

    static UpstreamServer[] smoothSchedule(List<UpstreamServer> servers) {
        int gcd = 0;
        for (UpstreamServer s : servers) {
            gcd = gcd(gcd, s.weight());
        }
        if (gcd == 0) {
            return new UpstreamServer[0];
        }
        long total = 0;
        for (UpstreamServer s : servers) {
            total += s.weight() / gcd;
        }
        int length = (int) Math.min(total, MAX_SCHEDULE);
        // Past MAX_SCHEDULE the proportions are kept approximately by scaling weights down.
        double scale = total > MAX_SCHEDULE ? (double) MAX_SCHEDULE / total : 1.0;
        long[] weight = new long[servers.size()];
        long sum = 0;
        for (int i = 0; i < weight.length; i++) {
            int w = servers.get(i).weight() / gcd;
            weight[i] = w == 0 ? 0 : Math.max(1, Math.round(w * scale));
            sum += weight[i];
        }
        long[] current = new long[weight.length];
        UpstreamServer[] out = new UpstreamServer[(int) Math.min(sum, Integer.MAX_VALUE)];
        for (int n = 0; n < out.length; n++) {
            int best = -1;
            for (int i = 0; i < weight.length; i++) {
                current[i] += weight[i];
                if (weight[i] > 0 && (best < 0 || current[i] > current[best])) {
                    best = i;
                }
            }
            current[best] -= sum;
            out[n] = servers.get(best);
        }
        return length == 0 ? new UpstreamServer[0] : out;
    }

    private static int gcd(int a, int b) {
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }
}
