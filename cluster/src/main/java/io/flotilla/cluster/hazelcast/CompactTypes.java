package io.flotilla.cluster.hazelcast;

import com.hazelcast.nio.serialization.FieldKind;
import com.hazelcast.nio.serialization.compact.CompactReader;
import com.hazelcast.nio.serialization.compact.CompactSerializer;
import com.hazelcast.nio.serialization.compact.CompactWriter;
import io.flotilla.cluster.cache.StoredResponse;
import io.flotilla.cluster.config.ConfigHistory;
import io.flotilla.cluster.config.ConfigVersion;
import io.flotilla.cluster.health.BackendHealth;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Explicit Compact serializers for the values stored in the fleet's maps. Compact keeps each value's
 * schema (type name plus field names and kinds) beside it, so a later version can add a field and
 * read old values, and queries read fields (url, tags) without deserializing the body. Type names
 * carry a version suffix that changes only for an incompatible change.
 */
final class CompactTypes {

    private CompactTypes() {}

    static List<CompactSerializer<?>> all() {
        return List.of(
                new StoredResponseSerializer(),
                new CacheSlotSerializer(),
                new BackendHealthSerializer(),
                new ConfigVersionSerializer(),
                new ConfigHistorySerializer(),
                new PurgeRecordSerializer());
    }

    static final class StoredResponseSerializer implements CompactSerializer<StoredResponse> {
        @Override
        public StoredResponse read(CompactReader in) {
            return new StoredResponse(
                    in.readString("key"),
                    in.readString("url"),
                    Set.of(in.readArrayOfString("tags")),
                    in.readInt64("storedAt"),
                    in.readInt64("removeAt"),
                    in.readArrayOfInt8("head"),
                    in.readArrayOfInt8("body"));
        }

        @Override
        public void write(CompactWriter out, StoredResponse r) {
            out.writeString("key", r.key());
            out.writeString("url", r.url());
            String[] tags = r.tags().toArray(new String[0]);
            Arrays.sort(tags); // same tags, same bytes: replicas and merges compare equal
            out.writeArrayOfString("tags", tags);
            out.writeInt64("storedAt", r.storedAt());
            out.writeInt64("removeAt", r.removeAt());
            out.writeArrayOfInt8("head", r.head());
            out.writeArrayOfInt8("body", r.body());
        }

        @Override
        public String getTypeName() {
            return "flotilla.StoredResponse.v1";
        }

        @Override
        public Class<StoredResponse> getCompactClass() {
            return StoredResponse.class;
        }
    }

    /**
     * A slot flat, with the response's fields at the top level so that the purge indexes ("url",
     * "tags[any]") read them as before; a claim alone has no head and body.
     */
    static final class CacheSlotSerializer implements CompactSerializer<CacheSlot> {
        private static final String[] NO_TAGS = new String[0];

        @Override
        public CacheSlot read(CompactReader in) {
            byte[] head = in.readArrayOfInt8("head");
            StoredResponse r = head == null
                    ? null
                    : new StoredResponse(
                            in.readString("key"),
                            in.readString("url"),
                            Set.of(in.readArrayOfString("tags")),
                            in.readInt64("storedAt"),
                            in.readInt64("removeAt"),
                            head,
                            in.readArrayOfInt8("body"));
            return new CacheSlot(r, in.readString("claimHolder"), in.readInt64("claimUntil"));
        }

        @Override
        public void write(CompactWriter out, CacheSlot slot) {
            StoredResponse r = slot.response();
            out.writeString("key", r == null ? null : r.key());
            out.writeString("url", r == null ? null : r.url());
            String[] tags = r == null ? NO_TAGS : r.tags().toArray(NO_TAGS);
            Arrays.sort(tags); // same tags, same bytes: replicas and merges compare equal
            out.writeArrayOfString("tags", tags);
            out.writeInt64("storedAt", r == null ? 0 : r.storedAt());
            out.writeInt64("removeAt", r == null ? 0 : r.removeAt());
            out.writeArrayOfInt8("head", r == null ? null : r.head());
            out.writeArrayOfInt8("body", r == null ? null : r.body());
            out.writeString("claimHolder", slot.claimHolder());
            out.writeInt64("claimUntil", slot.claimUntil());
        }

        @Override
        public String getTypeName() {
            return "flotilla.CacheSlot.v1";
        }

        @Override
        public Class<CacheSlot> getCompactClass() {
            return CacheSlot.class;
        }
    }

    static final class BackendHealthSerializer implements CompactSerializer<BackendHealth> {
        @Override
        public BackendHealth read(CompactReader in) {
            return new BackendHealth(
                    in.readString("backendId"),
                    in.readBoolean("up"),
                    in.readInt64("since"),
                    in.readString("reporter"),
                    in.readString("reason"));
        }

        @Override
        public void write(CompactWriter out, BackendHealth h) {
            out.writeString("backendId", h.backendId());
            out.writeBoolean("up", h.up());
            out.writeInt64("since", h.since());
            out.writeString("reporter", h.reporter());
            out.writeString("reason", h.reason());
        }

        @Override
        public String getTypeName() {
            return "flotilla.BackendHealth.v1";
        }

        @Override
        public Class<BackendHealth> getCompactClass() {
            return BackendHealth.class;
        }
    }

    static final class ConfigVersionSerializer implements CompactSerializer<ConfigVersion> {
        @Override
        public ConfigVersion read(CompactReader in) {
            // "source" came later: a history written by an older member reads as source unknown.
            String source = in.getFieldKind("source") == FieldKind.STRING ? in.readString("source") : null;
            return new ConfigVersion(
                    in.readInt64("version"),
                    in.readString("document"),
                    in.readInt64("publishedAt"),
                    in.readString("publisher"),
                    source);
        }

        @Override
        public void write(CompactWriter out, ConfigVersion v) {
            out.writeInt64("version", v.version());
            out.writeString("document", v.document());
            out.writeInt64("publishedAt", v.publishedAt());
            out.writeString("publisher", v.publisher());
            out.writeString("source", v.source());
        }

        @Override
        public String getTypeName() {
            return "flotilla.ConfigVersion.v1";
        }

        @Override
        public Class<ConfigVersion> getCompactClass() {
            return ConfigVersion.class;
        }
    }

    static final class ConfigHistorySerializer implements CompactSerializer<ConfigHistory> {
        @Override
        public ConfigHistory read(CompactReader in) {
            return new ConfigHistory(List.of(in.readArrayOfCompact("versions", ConfigVersion.class)));
        }

        @Override
        public void write(CompactWriter out, ConfigHistory h) {
            out.writeArrayOfCompact("versions", h.versions().toArray(new ConfigVersion[0]));
        }

        @Override
        public String getTypeName() {
            return "flotilla.ConfigHistory.v1";
        }

        @Override
        public Class<ConfigHistory> getCompactClass() {
            return ConfigHistory.class;
        }
    }

    static final class PurgeRecordSerializer implements CompactSerializer<PurgeRecord> {
        @Override
        public PurgeRecord read(CompactReader in) {
            return new PurgeRecord(
                    in.readString("id"),
                    PurgeKind.valueOf(in.readString("kind")),
                    in.readString("value"),
                    in.readInt64("issuedAt"),
                    in.readString("issuer"),
                    in.readArrayOfInt8("proof"));
        }

        @Override
        public void write(CompactWriter out, PurgeRecord p) {
            out.writeString("id", p.id());
            out.writeString("kind", p.kind().name()); // by name: reordering the enum must not change meaning
            out.writeString("value", p.value());
            out.writeInt64("issuedAt", p.issuedAt());
            out.writeString("issuer", p.issuer());
            out.writeArrayOfInt8("proof", p.proof());
        }

        @Override
        public String getTypeName() {
            return "flotilla.PurgeRecord.v2";
        }

        @Override
        public Class<PurgeRecord> getCompactClass() {
            return PurgeRecord.class;
        }
    }
}
