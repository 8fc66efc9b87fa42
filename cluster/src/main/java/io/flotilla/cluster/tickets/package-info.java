/**
 * TLS session-ticket keys the fleet shares and rotates: {@link io.flotilla.cluster.tickets.TicketKeyRing}.
 */
package io.flotilla.cluster.tickets;
