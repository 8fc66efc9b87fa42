/**
 * The fleet secret ({@link io.flotilla.cluster.security.FleetKeys}): sealing of shared values, keys
 * for gossip and for the proof a member gives when it joins. Pure JDK cryptography, no Hazelcast or
 * JGroups types, so every part of {@code cluster} can use it.
 */
package io.flotilla.cluster.security;
