package io.flotilla.node.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class DidYouMeanTest {
    private static final List<String> KEYS = List.of("bind", "max_connections", "via", "server");

    @Test
    void suggestsTyposWithinTwoEdits() {
        assertEquals(Optional.of("bind"), DidYouMean.closest("bnd", KEYS));
        assertEquals(Optional.of("max_connections"), DidYouMean.closest("max_conections", KEYS));
        assertEquals(Optional.of("server"), DidYouMean.closest("sevrer", KEYS));
    }

    @Test
    void suggestsOtherSpellingsOfTheSameWords() {
        assertEquals(Optional.of("max_connections"), DidYouMean.closest("maxConnections", KEYS));
        assertEquals(Optional.of("max_connections"), DidYouMean.closest("max-connections", KEYS));
    }

    @Test
    void staysQuietWhenNothingIsClose() {
        assertEquals(Optional.empty(), DidYouMean.closest("timeout", KEYS));
        // One letter is two edits from "via", but that is a guess, not a help.
        assertEquals(Optional.empty(), DidYouMean.closest("x", KEYS));
    }

    @Test
    void levenshteinCountsEdits() {
        assertEquals(0, DidYouMean.levenshtein("abc", "abc"));
        assertEquals(1, DidYouMean.levenshtein("ap", "app"));
        assertEquals(3, DidYouMean.levenshtein("kitten", "sitting"));
        assertEquals(4, DidYouMean.levenshtein("", "host"));
    }
}
