package io.flotilla.containers;

import java.util.List;
import org.testcontainers.DockerClientFactory;

/** The images docker/build-images.sh builds; the tests never pull (there may be no registry). */
final class Images {
    static final String NODE = "flotilla/node:" + System.getProperty("flotilla.image.version", "latest");
    /** The origin (its default command), HAProxy and Prometheus, each picked by the container's command. */
    static final String PEERS = "flotilla/peers:test";

    static final List<String> ALL = List.of(NODE, PEERS);

    private Images() {}

    static boolean present(String image) {
        try {
            DockerClientFactory.instance().client().inspectImageCmd(image).exec();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }
}
