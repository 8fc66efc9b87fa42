package io.flotilla.node.route;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** RFC 3986 §5.2.4 dot-segment removal, with percent-encoded dots treated as dots. */
class PathNormalizerTest {
    @ParameterizedTest
    @CsvSource(
            nullValues = "NULL",
            value = {
                "/,/",
                "/a/b,/a/b",
                "/a/./b,/a/b",
                "/a/../b,/b",
                "/public/../admin,/admin",
                "/public/%2e%2e/admin,/admin",
                "/public/%2E%2e/admin,/admin",
                "/a/b/..,/a/",
                "/a/.,/a/",
                "/..,NULL",
                "/a/../../b,NULL",
                "/a..b/c,/a..b/c",
                "/%2e%2ex,/%2e%2ex",
                "/a//b,/a//b",
            })
    void normalizes(String in, String expected) {
        assertEquals(expected, PathNormalizer.normalize(in));
    }
}
