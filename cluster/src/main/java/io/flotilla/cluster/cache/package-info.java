/**
 * The shared response cache's storage seam: {@link io.flotilla.cluster.cache.ResponseStore} and
 * its in-process implementation. RFC 9111 semantics live in the node; this package only keeps bytes.
 */
package io.flotilla.cluster.cache;
