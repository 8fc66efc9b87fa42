/** Who is in the fleet and in which state: {@link io.flotilla.cluster.membership.Membership}. */
package io.flotilla.cluster.membership;
