package io.flotilla.node.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * One node of a composed YAML document together with its field path, reading typed values and pinning
 * every error to the node's line and column.
 */
final class YamlNode {
    private static final Pattern INTEGER = Pattern.compile("[-+]?[0-9](?:_?[0-9])*");

    private final Node node;
    private final String source;
    private final String path;

    YamlNode(Node node, String source, String path) {
        this.node = node;
        this.source = source;
        this.path = path;
    }

    String path() {
        return path;
    }

    /** 1-based. */
    int line() {
        return node.getStartMark().getLine() + 1;
    }

    /** 1-based. */
    int column() {
        return node.getStartMark().getColumn() + 1;
    }

    ConfigException error(String problem) {
        return new ConfigException(source, line(), column(), path, problem);
    }

    /** An error about a field that is not there, so it is pinned to this node, its would-be parent. */
    ConfigException errorFor(String childKey, String problem) {
        return new ConfigException(source, line(), column(), childPath(childKey), problem);
    }

    String childPath(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    boolean isNull() {
        return node instanceof ScalarNode && Tag.NULL.equals(node.getTag());
    }

    boolean isScalar() {
        return node instanceof ScalarNode && !isNull();
    }

    boolean isMapping() {
        return node instanceof MappingNode;
    }

    /** How the node reads in an error message: "a list", "a mapping", "'text'" or "nothing". */
    String describe() {
        if (node instanceof MappingNode) {
            return "a mapping";
        }
        if (node instanceof SequenceNode) {
            return "a list";
        }
        return isNull() ? "nothing" : "'" + ((ScalarNode) node).getValue() + "'";
    }

    YamlMap asMap() throws ConfigException {
        if (!(node instanceof MappingNode mapping)) {
            throw error("expected a mapping (key: value lines or {key: value}), got " + describe());
        }
        Map<String, YamlMap.Entry> entries = new LinkedHashMap<>();
        List<YamlNode> merges = new ArrayList<>();
        for (NodeTuple tuple : mapping.getValue()) {
            Node k = tuple.getKeyNode();
            if (Tag.MERGE.equals(k.getTag())) {
                merges.add(new YamlNode(tuple.getValueNode(), source, path));
                continue;
            }
            YamlNode keyNode = new YamlNode(k, source, path);
            if (!keyNode.isScalar()) {
                throw keyNode.error("keys must be plain names, got " + keyNode.describe());
            }
            String key = ((ScalarNode) k).getValue();
            YamlMap.Entry previous = entries.get(key);
            YamlNode located = new YamlNode(k, source, childPath(key));
            if (previous != null) {
                throw located.error("duplicate key '" + key + "' (first at line "
                        + previous.key().line() + ")");
            }
            YamlNode value = new YamlNode(tuple.getValueNode(), source, childPath(key));
            entries.put(key, new YamlMap.Entry(key, located, value));
        }
        // YAML merge keys (<<: *defaults): keys written out in this mapping win over merged ones.
        for (YamlNode merge : merges) {
            List<YamlNode> sources = merge.node instanceof SequenceNode ? merge.asList() : List.of(merge);
            for (YamlNode from : sources) {
                for (YamlMap.Entry e : from.asMap().entries()) {
                    entries.putIfAbsent(e.name(), e);
                }
            }
        }
        return new YamlMap(this, entries);
    }

    List<YamlNode> asList() throws ConfigException {
        if (!(node instanceof SequenceNode sequence)) {
            throw error("expected a list (lines starting with '- ' or [a, b]), got " + describe());
        }
        List<YamlNode> items = new ArrayList<>();
        for (Node item : sequence.getValue()) {
            items.add(new YamlNode(item, source, path + "[" + items.size() + "]"));
        }
        return items;
    }

    String asString() throws ConfigException {
        if (node instanceof MappingNode || node instanceof SequenceNode) {
            throw error("expected a single value, got " + describe());
        }
        if (isNull()) {
            throw error("needs a value");
        }
        return ((ScalarNode) node).getValue();
    }

    long asLong(long min, long max) throws ConfigException {
        String text = asString().trim();
        if (!INTEGER.matcher(text).matches()) {
            throw error("expected a whole number, got '" + text + "'");
        }
        long value;
        try {
            value = Long.parseLong(text.replace("_", ""));
        } catch (NumberFormatException e) {
            throw error(outOfRange(min, max, text));
        }
        if (value < min || value > max) {
            throw error(outOfRange(min, max, text));
        }
        return value;
    }

    int asInt(int min, int max) throws ConfigException {
        return (int) asLong(min, max);
    }

    private static String outOfRange(long min, long max, String text) {
        if (max == Integer.MAX_VALUE || max == Long.MAX_VALUE) {
            return "must be at least " + min + ", got " + text;
        }
        return "must be between " + min + " and " + max + ", got " + text;
    }

    boolean asBoolean() throws ConfigException {
        String text = asString().trim();
        // yes/no/on/off are YAML 1.1 booleans too, but spelling them out leaves nothing to guess.
        return switch (text.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw error("expected true or false, got '" + text + "'");
        };
    }

    Duration asDuration(boolean zeroAllowed) throws ConfigException {
        Duration value;
        try {
            value = Durations.parse(asString());
        } catch (IllegalArgumentException e) {
            throw error(e.getMessage());
        }
        if (value.isZero() && !zeroAllowed) {
            throw error("must be longer than 0");
        }
        return value;
    }

    long asSize(long min, long max) throws ConfigException {
        String text = asString();
        long value;
        try {
            value = Sizes.parse(text);
        } catch (IllegalArgumentException e) {
            throw error(e.getMessage());
        }
        if (value < min) {
            throw error(min == 1 ? "must be greater than 0" : "must be at least " + min + " bytes, got '" + text + "'");
        }
        if (value > max) {
            throw error("must be at most " + max + " bytes, got '" + text + "'");
        }
        return value;
    }

    HostPort asHostPort() throws ConfigException {
        try {
            return HostPort.parse(asString());
        } catch (IllegalArgumentException e) {
            throw error(e.getMessage());
        }
    }
}
