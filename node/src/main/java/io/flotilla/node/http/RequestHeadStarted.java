package io.flotilla.node.http;

/**
 * User event fired by {@link StrictRequestDecoder} when the first byte of a request head arrives, so
 * the client-header timeout runs from there to the end of the head (total, not per read).
 */
public final class RequestHeadStarted {
    public static final RequestHeadStarted INSTANCE = new RequestHeadStarted();

    private RequestHeadStarted() {}
}
