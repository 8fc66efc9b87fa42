package io.flotilla.cluster.hazelcast;

import com.hazelcast.query.Predicate;
import com.hazelcast.query.Predicates;
import io.flotilla.cluster.cache.ResponseStore;
import io.flotilla.cluster.cache.StoredResponse;

/** What a purge matches, as a Hazelcast predicate over indexed attributes and as a plain test. */
enum PurgeKind {
    KEY {
        @Override
        Predicate<String, CacheSlot> predicate(String v) {
            return Predicates.equal("__key", v);
        }

        @Override
        boolean matches(StoredResponse r, String v) {
            return r.key().equals(v);
        }

        @Override
        void applyTo(ResponseStore near, String v) {
            near.remove(v);
        }
    },
    URL {
        @Override
        Predicate<String, CacheSlot> predicate(String v) {
            return Predicates.equal("url", v);
        }

        @Override
        boolean matches(StoredResponse r, String v) {
            return r.url().equals(v);
        }

        @Override
        void applyTo(ResponseStore near, String v) {
            near.purgeUrl(v);
        }
    },
    PREFIX {
        @Override
        Predicate<String, CacheSlot> predicate(String v) {
            // A range on the sorted index: every string starting with v sorts between v and v + U+FFFF.
            return Predicates.between("url", v, v + Character.MAX_VALUE);
        }

        @Override
        boolean matches(StoredResponse r, String v) {
            return r.url().startsWith(v);
        }

        @Override
        void applyTo(ResponseStore near, String v) {
            near.purgePrefix(v);
        }
    },
    TAG {
        @Override
        Predicate<String, CacheSlot> predicate(String v) {
            return Predicates.equal("tags[any]", v);
        }

        @Override
        boolean matches(StoredResponse r, String v) {
            return r.tags().contains(v);
        }

        @Override
        void applyTo(ResponseStore near, String v) {
            near.purgeTag(v);
        }
    };

    /** Selects candidate entries on each member, using the map's indexes. */
    abstract Predicate<String, CacheSlot> predicate(String value);

    /** The exact test, applied again in the entry processor (the range predicate is wider than a prefix). */
    abstract boolean matches(StoredResponse r, String value);

    /** Removes the matching entries from a member's near cache. */
    abstract void applyTo(ResponseStore near, String value);
}
