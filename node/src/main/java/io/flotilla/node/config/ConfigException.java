package io.flotilla.node.config;

/**
 * A configuration that cannot be used, with where: file, line, column and the field's path, so an
 * operator can go straight to it ({@code edge.yaml:12:14: routes[1].upstream: no upstream named 'ap'}).
 */
public final class ConfigException extends Exception {
    private final String file;
    private final int line;
    private final int column;
    private final String field;
    private final String problem;

    public ConfigException(String file, int line, int column, String field, String problem) {
        super(format(file, line, column, field, problem));
        this.file = file;
        this.line = line;
        this.column = column;
        this.field = field;
        this.problem = problem;
    }

    private static String format(String file, int line, int column, String field, String problem) {
        StringBuilder b = new StringBuilder(file);
        if (line > 0) {
            b.append(':').append(line);
            if (column > 0) {
                b.append(':').append(column);
            }
        }
        b.append(": ");
        if (field != null && !field.isEmpty()) {
            b.append(field).append(": ");
        }
        return b.append(problem).toString();
    }

    public String file() {
        return file;
    }

    /** 1-based; 0 when the problem is not tied to a line (an unreadable file). */
    public int line() {
        return line;
    }

    public int column() {
        return column;
    }

    public String field() {
        return field;
    }

    public String problem() {
        return problem;
    }
}
