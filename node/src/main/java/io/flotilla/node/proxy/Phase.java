package io.flotilla.node.proxy;

/** The phases of an exchange that have a timeout of their own (see {@code TimeoutConfig}). */
enum Phase {
    CLIENT_HEADER,
    KEEP_ALIVE,
    CLIENT_BODY,
    CLIENT_WRITE,
    UPSTREAM_READ,
    UPSTREAM_WRITE
}
