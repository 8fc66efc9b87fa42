/**
 * The fleet's shared state: response store, health registry, rate counters, config store and
 * membership, each a small interface with a local (single node) and a Hazelcast implementation.
 * Knows nothing of HTTP or Netty; {@code node} depends on it, never the other way round.
 */
package io.flotilla.cluster;
