package io.flotilla.cluster.config;

import java.util.Objects;

/**
 * One published config document. The store keeps the document opaque: the node validates it
 * before publishing and parses it when it changes.
 *
 * @param version     1 for the first published document, then one more per publish or rollback
 * @param document    the config text as published
 * @param publishedAt epoch millis
 * @param publisher   id of the member that published it
 */
public record ConfigVersion(long version, String document, long publishedAt, String publisher) {

  public ConfigVersion {
    Objects.requireNonNull(document, "document");
    Objects.requireNonNull(publisher, "publisher");
  }
}
