package io.flotilla.node.config;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A YAML mapping read field by field; an explicit null ({@code key:} or {@code key: ~}) counts as
 * absent, so it means "use the default".
 */
final class YamlMap {
    /** A key by name, its node (which locates the key itself) and its value. */
    record Entry(String name, YamlNode key, YamlNode value) {}

    private final YamlNode self;
    private final Map<String, Entry> entries;

    YamlMap(YamlNode self, Map<String, Entry> entries) {
        this.self = self;
        this.entries = entries;
    }

    Collection<Entry> entries() {
        return entries.values();
    }

    /** Fails on the first key not in {@code allowed}, suggesting the closest allowed one. */
    YamlMap allowOnly(String... allowed) throws ConfigException {
        List<String> keys = List.of(allowed);
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            if (!keys.contains(e.getKey())) {
                throw e.getValue()
                        .key()
                        .error("unknown key '" + e.getKey() + "'" + DidYouMean.hint(e.getKey(), keys) + "; valid keys: "
                                + String.join(", ", keys));
            }
        }
        return this;
    }

    Optional<YamlNode> get(String key) {
        Entry e = entries.get(key);
        return e == null || e.value().isNull() ? Optional.empty() : Optional.of(e.value());
    }

    YamlNode required(String key) throws ConfigException {
        return required(key, "required key is missing", "needs a value");
    }

    /** Like {@link #required(String)}, with one explanation for both a missing key and an empty value. */
    YamlNode required(String key, String problem) throws ConfigException {
        return required(key, problem, problem);
    }

    private YamlNode required(String key, String whenMissing, String whenNull) throws ConfigException {
        Entry e = entries.get(key);
        if (e == null) {
            throw self.errorFor(key, whenMissing);
        }
        if (e.value().isNull()) {
            throw e.value().error(whenNull);
        }
        return e.value();
    }

    int integer(String key, int fallback, int min, int max) throws ConfigException {
        Optional<YamlNode> n = get(key);
        return n.isPresent() ? n.get().asInt(min, max) : fallback;
    }

    boolean bool(String key, boolean fallback) throws ConfigException {
        Optional<YamlNode> n = get(key);
        return n.isPresent() ? n.get().asBoolean() : fallback;
    }

    Duration positiveDuration(String key, Duration fallback) throws ConfigException {
        Optional<YamlNode> n = get(key);
        return n.isPresent() ? n.get().asDuration(false) : fallback;
    }

    Duration zeroOrPositiveDuration(String key, Duration fallback) throws ConfigException {
        Optional<YamlNode> n = get(key);
        return n.isPresent() ? n.get().asDuration(true) : fallback;
    }

    long size(String key, long fallback, long min, long max) throws ConfigException {
        Optional<YamlNode> n = get(key);
        return n.isPresent() ? n.get().asSize(min, max) : fallback;
    }
}
