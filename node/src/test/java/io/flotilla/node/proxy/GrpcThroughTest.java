package io.flotilla.node.proxy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flotilla.node.testing.TestNode;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * gRPC through a node, end to end with grpc-java on both sides: the client speaks h2c to a listener
 * with {@code h2c: true}, the node speaks h2c to the server ({@code protocol: h2c}). Unary calls with
 * their status in trailers, a bidirectional stream whose messages cross one at a time (full duplex),
 * a deadline that cancels the call at the server, and a server's error mid-stream.
 */
class GrpcThroughTest {
    /** Messages are raw bytes: no code generation, the framing and trailers are what is tested. */
    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    private static final MethodDescriptor<byte[], byte[]> SAY = method("Say", MethodDescriptor.MethodType.UNARY);
    private static final MethodDescriptor<byte[], byte[]> SLOW = method("Slow", MethodDescriptor.MethodType.UNARY);
    private static final MethodDescriptor<byte[], byte[]> CHAT =
            method("Chat", MethodDescriptor.MethodType.BIDI_STREAMING);

    private Server server;
    private final CountDownLatch slowCancelled = new CountDownLatch(1);

    private static MethodDescriptor<byte[], byte[]> method(String name, MethodDescriptor.MethodType type) {
        return MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(type)
                .setFullMethodName(MethodDescriptor.generateFullMethodName("flotilla.test.Echo", name))
                .setRequestMarshaller(BYTES)
                .setResponseMarshaller(BYTES)
                .build();
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @BeforeEach
    void startServer() throws IOException {
        ServerServiceDefinition echo = ServerServiceDefinition.builder("flotilla.test.Echo")
                .addMethod(SAY, ServerCalls.asyncUnaryCall((byte[] request, StreamObserver<byte[]> out) -> {
                    String text = new String(request, StandardCharsets.UTF_8);
                    if (text.equals("fail")) {
                        out.onError(Status.INVALID_ARGUMENT
                                .withDescription("no failing here")
                                .asRuntimeException());
                        return;
                    }
                    out.onNext(utf8("said " + text));
                    out.onCompleted();
                }))
                .addMethod(SLOW, ServerCalls.asyncUnaryCall((byte[] request, StreamObserver<byte[]> out) -> {
                    io.grpc.Context.current().addListener(c -> slowCancelled.countDown(), Runnable::run);
                    // Never answers: only the client's deadline ends the call.
                }))
                .addMethod(
                        CHAT,
                        ServerCalls.asyncBidiStreamingCall(
                                (StreamObserver<byte[]> out) -> new StreamObserver<byte[]>() {
                                    @Override
                                    public void onNext(byte[] message) {
                                        String text = new String(message, StandardCharsets.UTF_8);
                                        if (text.equals("stop")) {
                                            out.onError(Status.ABORTED
                                                    .withDescription("stopped by request")
                                                    .asRuntimeException());
                                        } else {
                                            out.onNext(utf8("echo " + text));
                                        }
                                    }

                                    @Override
                                    public void onError(Throwable t) {}

                                    @Override
                                    public void onCompleted() {
                                        out.onCompleted();
                                    }
                                }))
                .build();
        server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                .addService(echo)
                .build()
                .start();
    }

    @AfterEach
    void stopServer() throws InterruptedException {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private TestNode node() throws Exception {
        return TestNode.startWith("node: {name: grpc-node, event_loops: 1}\n"
                + "listeners:\n  - {bind: 127.0.0.1:0, h2c: true}\n"
                + "upstreams:\n  grpc:\n    protocol: h2c\n    servers: ['127.0.0.1:" + server.getPort() + "']\n"
                + "    health: {tcp: true}\n"
                + "routes:\n  - {path: /, upstream: grpc}\n");
    }

    private static ManagedChannel channel(TestNode node) {
        return ManagedChannelBuilder.forAddress("127.0.0.1", node.port())
                .usePlaintext()
                .build();
    }

    @Test
    void unaryCallsAndTheirStatusCrossTheNode() throws Exception {
        try (TestNode node = node()) {
            ManagedChannel channel = channel(node);
            try {
                byte[] answer = ClientCalls.blockingUnaryCall(
                        channel, SAY, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), utf8("hello"));
                assertArrayEquals(utf8("said hello"), answer);
                StatusRuntimeException failed = assertThrows(
                        StatusRuntimeException.class,
                        () -> ClientCalls.blockingUnaryCall(
                                channel,
                                SAY,
                                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
                                utf8("fail")));
                assertEquals(
                        Status.Code.INVALID_ARGUMENT, failed.getStatus().getCode(), "grpc-status from the trailers");
                assertEquals("no failing here", failed.getStatus().getDescription());
                for (int i = 0; i < 20; i++) {
                    assertArrayEquals(
                            utf8("said " + i),
                            ClientCalls.blockingUnaryCall(
                                    channel,
                                    SAY,
                                    CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
                                    utf8(Integer.toString(i))));
                }
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aBidirectionalStreamCrossesOneMessageAtATimeAndAServerErrorEndsIt() throws Exception {
        try (TestNode node = node()) {
            ManagedChannel channel = channel(node);
            try {
                LinkedBlockingQueue<Object> received = new LinkedBlockingQueue<>();
                StreamObserver<byte[]> send = ClientCalls.asyncBidiStreamingCall(
                        channel.newCall(CHAT, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS)),
                        new StreamObserver<byte[]>() {
                            @Override
                            public void onNext(byte[] value) {
                                received.add(new String(value, StandardCharsets.UTF_8));
                            }

                            @Override
                            public void onError(Throwable t) {
                                received.add(Status.fromThrowable(t));
                            }

                            @Override
                            public void onCompleted() {
                                received.add("completed");
                            }
                        });
                // Each reply must arrive before the next message is sent: neither side is buffered whole.
                for (int i = 0; i < 5; i++) {
                    send.onNext(utf8("m" + i));
                    assertEquals("echo m" + i, received.poll(10, TimeUnit.SECONDS), "reply " + i);
                }
                send.onNext(utf8("stop"));
                Object end = received.poll(10, TimeUnit.SECONDS);
                assertTrue(
                        end instanceof Status s
                                && s.getCode() == Status.Code.ABORTED
                                && "stopped by request".equals(s.getDescription()),
                        "the server's error, got " + end);
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aDeadlineCancelsTheCallAtTheServer() throws Exception {
        try (TestNode node = node()) {
            ManagedChannel channel = channel(node);
            try {
                StatusRuntimeException late = assertThrows(
                        StatusRuntimeException.class,
                        () -> ClientCalls.blockingUnaryCall(
                                channel,
                                SLOW,
                                CallOptions.DEFAULT.withDeadlineAfter(500, TimeUnit.MILLISECONDS),
                                utf8("wait")));
                assertEquals(Status.Code.DEADLINE_EXCEEDED, late.getStatus().getCode());
                // The client's RST_STREAM went through the node, whose stream to the server was reset
                // (or the server's own deadline, passed on in grpc-timeout, ended it).
                assertTrue(slowCancelled.await(10, TimeUnit.SECONDS), "the server saw the call cancelled");
                assertArrayEquals(
                        utf8("said after"),
                        ClientCalls.blockingUnaryCall(
                                channel,
                                SAY,
                                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
                                utf8("after")),
                        "the connection serves on after a cancelled call");
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }
}
