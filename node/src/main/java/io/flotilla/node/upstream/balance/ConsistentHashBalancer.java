package io.flotilla.node.upstream.balance;

import io.flotilla.node.upstream.UpstreamServer;
import java.util.Arrays;
import java.util.List;

/**
 * A key goes to the owner of its position in a shared {@link KeyTable}, or, when that server is not a
 * candidate now, to the next owner along the table that is: only the keys of an unavailable server move, and
 * they come back when it does. Keyless requests are spread by smooth weighted round robin instead.
 *
 * <p>Slow start does not apply: a key's server is either available or not, since sending a ramping server
 * part of its keys would move the rest back and forth.
 */
final class ConsistentHashBalancer implements Balancer {
    private final ServerView[] servers;
    private final KeyTable table;
    private final KeyHasher hasher = new KeyHasher();
    private final Balancer keyless;
    /** seen[i] == walk when server i was already looked at in this walk; marks without clearing. */
    private final int[] seen;

    private int walk;

    ConsistentHashBalancer(List<? extends ServerView> servers, KeyTable table) {
        this.servers = servers.toArray(new ServerView[0]);
        this.table = table;
        this.keyless = new SmoothRoundRobinBalancer(servers);
        this.seen = new int[this.servers.length];
    }

    KeyTable table() {
        return table;
    }

    @Override
    public ServerView pick(CharSequence hashKey) {
        if (hashKey == null || hashKey.length() == 0) {
            return keyless.pick(null);
        }
        return walk(hashKey, null);
    }

    @Override
    public ServerView pickOther(ServerView avoid, CharSequence hashKey) {
        if (hashKey == null || hashKey.length() == 0) {
            return keyless.pickOther(avoid, null);
        }
        return walk(hashKey, Candidates.serverOf(avoid));
    }

    private ServerView walk(CharSequence hashKey, UpstreamServer avoid) {
        int size = table.size();
        if (size == 0) {
            return null;
        }
        if (++walk == 0) {
            Arrays.fill(seen, 0);
            walk = 1;
        }
        int position = table.position(hasher.hash(hashKey));
        int refused = 0;
        for (int step = 0; step < size; step++) {
            int owner = table.owner(position);
            if (seen[owner] != walk) {
                seen[owner] = walk;
                if (Candidates.weight(servers[owner], avoid) > 0) {
                    return servers[owner];
                }
                // Every owner refused: stop, rather than walk the whole table on each request.
                if (++refused == table.owners()) {
                    return null;
                }
            }
            position = position + 1 == size ? 0 : position + 1;
        }
        return null;
    }
}
