package io.flotilla.cluster.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProbeOwnersTest {

    private static final List<String> FIVE = List.of("a", "b", "c", "d", "e");

    @Test
    void loadIsSpreadOverMembers() {
        Map<String, Integer> load = new HashMap<>();
        for (int i = 0; i < 1000; i++) {
            for (String m : ProbeOwners.choose("backend-" + i, FIVE, 2)) {
                load.merge(m, 1, Integer::sum);
            }
        }
        // 2000 assignments over 5 members: 400 each on average.
        load.values().forEach(n -> assertTrue(n > 300 && n < 500, () -> "uneven: " + load));
    }

    @Test
    void aLeavingMemberMovesOnlyItsOwnBackends() {
        List<String> four = new ArrayList<>(FIVE);
        four.remove("c");
        for (int i = 0; i < 500; i++) {
            List<String> before = ProbeOwners.choose("backend-" + i, FIVE, 2);
            List<String> after = ProbeOwners.choose("backend-" + i, four, 2);
            if (!before.contains("c")) {
                assertEquals(before, after, "backend-" + i + " moved though its owners stayed");
            } else {
                assertTrue(after.containsAll(
                        before.stream().filter(m -> !m.equals("c")).toList()));
            }
        }
    }

    @Test
    void orderOfTheViewDoesNotMatter() {
        assertEquals(ProbeOwners.choose("x", FIVE, 3), ProbeOwners.choose("x", List.of("e", "d", "c", "b", "a"), 3));
    }
}
