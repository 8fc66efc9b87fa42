package io.flotilla.node.config;

/**
 * Size and count limits on requests, each answered with its own status.
 *
 * @param requestLine  longest request line (414)
 * @param headerLine   longest single header field line (431)
 * @param headersTotal all header lines together (431)
 * @param headerCount  number of header fields (431)
 * @param body         largest request body (413); 0 means no limit
 */
public record LimitConfig(int requestLine, int headerLine, int headersTotal, int headerCount, long body) {
    public static final int DEFAULT_REQUEST_LINE = 8 * 1024;
    public static final int DEFAULT_HEADER_LINE = 8 * 1024;
    public static final int DEFAULT_HEADERS_TOTAL = 32 * 1024;
    public static final int DEFAULT_HEADER_COUNT = 100;
    public static final long DEFAULT_BODY = 1024L * 1024 * 1024;

    public static LimitConfig defaults() {
        return new LimitConfig(
                DEFAULT_REQUEST_LINE, DEFAULT_HEADER_LINE, DEFAULT_HEADERS_TOTAL, DEFAULT_HEADER_COUNT, DEFAULT_BODY);
    }
}
