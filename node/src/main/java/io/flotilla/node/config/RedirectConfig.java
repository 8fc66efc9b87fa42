package io.flotilla.node.config;

/**
 * A plain listener that answers every request with a redirect to the same URL over https.
 *
 * @param port   the https port named in {@code Location}; 443 is left out of the URL
 * @param status 301 or 308 (308 keeps the method and body, RFC 9110 §15.4.9)
 */
public record RedirectConfig(int port, int status) {
    public static final int DEFAULT_PORT = 443;
    public static final int DEFAULT_STATUS = 308;
}
