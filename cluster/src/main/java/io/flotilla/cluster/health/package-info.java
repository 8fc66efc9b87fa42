/** Backend health shared by the fleet, and who probes what: {@link io.flotilla.cluster.health.HealthRegistry}. */
package io.flotilla.cluster.health;
