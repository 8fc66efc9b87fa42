package io.flotilla.node.fleet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.flotilla.node.testing.ExternalTool;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ansible/} passes ansible-lint's strictest profile, production (issue 12), with no rule
 * skipped. Offline: nothing is fetched from Galaxy. Skipped without ansible-lint, except in CI.
 */
class AnsibleLintTest {
    @TempDir
    Path home;

    @Test
    void theRolesAndPlaybooksPassTheProductionProfile() throws Exception {
        ExternalTool.require("/usr/bin/ansible-lint", "ansible-lint");
        Path ansible = Path.of("").toAbsolutePath().getParent().resolve("ansible");
        ProcessBuilder pb = new ProcessBuilder(
                        "/usr/bin/ansible-lint", "--offline", "--nocolor", "--profile", "production")
                .directory(ansible.toFile())
                .redirectErrorStream(true);
        pb.environment().put("ANSIBLE_CONFIG", ansible.resolve("ansible.cfg").toString());
        pb.environment().put("ANSIBLE_LOCAL_TEMP", home.toString());
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail("ansible-lint did not finish in 5 minutes");
        }
        assertEquals(0, p.exitValue(), output);
    }
}
