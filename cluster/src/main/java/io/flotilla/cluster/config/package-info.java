/** Versioned config documents shared by the fleet: {@link io.flotilla.cluster.config.ConfigStore}. */
package io.flotilla.cluster.config;
