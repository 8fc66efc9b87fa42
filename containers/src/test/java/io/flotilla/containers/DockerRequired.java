package io.flotilla.containers;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.testcontainers.DockerClientFactory;

/**
 * Skips a container test class where there is no Docker engine or the images are not built, saying
 * which and how to fix it; under {@code CI=true} it never skips, so a CI machine that lost its engine
 * or images fails loudly instead of passing with nothing tested.
 */
final class DockerRequired implements ExecutionCondition {

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        if ("true".equals(System.getenv("CI"))) {
            return ConditionEvaluationResult.enabled("CI=true: container tests always run");
        }
        if (!DockerClientFactory.instance().isDockerAvailable()) {
            return ConditionEvaluationResult.disabled("no Docker engine reachable (start dockerd; .ci/run does)");
        }
        for (String image : Images.ALL) {
            if (!Images.present(image)) {
                return ConditionEvaluationResult.disabled("image " + image + " is not built: run docker/build-images.sh"
                        + " after mvn -q -DskipTests package");
            }
        }
        return ConditionEvaluationResult.enabled("Docker and the images are here");
    }
}
