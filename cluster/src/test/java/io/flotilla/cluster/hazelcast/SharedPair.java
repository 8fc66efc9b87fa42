package io.flotilla.cluster.hazelcast;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One two-member fleet shared by the contract tests of every interface: starting members is the
 * slow part, and the contracts use keys of their own (or clear the maps they assert on). Closed
 * when the whole test run ends.
 */
final class SharedPair implements BeforeAllCallback {

    private static volatile TestFleet pair;

    static TestFleet pair() {
        return pair;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        // The root store closes an AutoCloseable value when the run ends.
        context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL).getOrComputeIfAbsent("flotilla.pair", k -> {
            pair = TestFleet.start(2);
            return pair;
        });
    }
}
