package io.flotilla.cluster.hazelcast;

import com.hazelcast.map.EntryProcessor;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import io.flotilla.cluster.config.ConfigHistory;
import java.io.IOException;
import java.util.Map;

/**
 * Compare-and-set on the config history, atomically on the key's owner: publishes (or rolls back)
 * only against the expected version, and returns the new history or null when stale.
 */
final class PublishConfig extends WireObject implements EntryProcessor<String, ConfigHistory, ConfigHistory> {

    private long expected;
    private String document; // null for a rollback
    private String publisher;
    private long now;
    private String source;

    PublishConfig() {}

    PublishConfig(long expected, String document, String publisher, long now, String source) {
        this.expected = expected;
        this.document = document;
        this.publisher = publisher;
        this.now = now;
        this.source = source;
    }

    @Override
    public ConfigHistory process(Map.Entry<String, ConfigHistory> entry) {
        ConfigHistory h = entry.getValue() == null ? ConfigHistory.EMPTY : entry.getValue();
        ConfigHistory next = document == null
                ? h.rollback(expected, publisher, now)
                : h.publish(expected, document, publisher, now, source);
        if (next != null) {
            entry.setValue(next);
        }
        return next;
    }

    @Override
    public int getClassId() {
        return WireFactory.PUBLISH_CONFIG;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
        out.writeLong(expected);
        out.writeString(document);
        out.writeString(publisher);
        out.writeLong(now);
        out.writeString(source);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
        expected = in.readLong();
        document = in.readString();
        publisher = in.readString();
        now = in.readLong();
        source = in.readString();
    }
}
