package io.flotilla.node.proxy;

import io.flotilla.cluster.rate.RateDecision;
import io.flotilla.node.compress.Coding;
import io.flotilla.node.route.Route;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpRequest;
import java.net.InetSocketAddress;

/**
 * One step of a route's request path ({@link RouteChain}): it answers the request, lets it continue
 * to the next stage, or takes it over (a cache lookup that may wait, a forward that relays), and
 * resumes the chain later with {@link Context#proceed()}. Stages are stateless and shared by every
 * request of their route; whatever a request needs to remember lives in its {@link Context}.
 */
interface Stage {
    /** What a stage did with the request. */
    enum Outcome {
        /** Go on with the next stage. */
        CONTINUE,
        /** The stage answered, or owns the request from here (and may {@link Context#proceed()} later). */
        TAKEN
    }

    Outcome handle(Context request);

    /**
     * What a stage sees of a request and can do with it. Nothing here assumes HTTP/1.1 framing: the
     * head is Netty's {@link HttpRequest} (an HTTP/2 stream's HEADERS map onto it), answers are
     * whole responses finished by {@link ResponseFinisher}, and bodies are the exchange's to relay.
     * Implemented by {@link RequestContext}; {@link #forward()} by the {@link Exchange}, its relay.
     */
    interface Context {
        HttpRequest request();

        Route route();

        /** The client's address (from the socket, or as a trusted PROXY protocol front stated it). */
        InetSocketAddress client();

        /** Records the rate limit's verdict, which the response pass describes on the response. */
        void rateDecision(RateDecision decision);

        /** Records the content coding negotiated for the response (a compressing route only). */
        void encoding(Coding coding);

        /** Answers with {@code response}, made here (no Via), through the response pass. */
        void respond(FullHttpResponse response);

        /** Answers from the route's static files. */
        void serveStatic();

        /** Looks the request up in the route's cache: answers from it, or proceeds to forward. */
        void lookUpCache();

        /** Forwards to the route's upstream and relays the response. */
        void forward();

        /** Runs the chain on from the stage after the one that took the request. */
        void proceed();
    }
}
