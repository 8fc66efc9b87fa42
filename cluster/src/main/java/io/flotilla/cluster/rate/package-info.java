/** Fleet-wide rate counters decided locally: {@link io.flotilla.cluster.rate.RateCounters}. */
package io.flotilla.cluster.rate;
