package io.flotilla.node.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** Reads one HTTP line (LF or CRLF ended, ISO-8859-1) byte by byte, for the test client and origin. */
final class HttpLines {
    private HttpLines() {}

    /**
     * @param partialAtEof at end of stream, return what was read of an unfinished line (null if nothing)
     *                     rather than null
     */
    static String readLine(InputStream in, boolean partialAtEof) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            int b = in.read();
            if (b < 0) {
                return partialAtEof && line.size() > 0 ? line.toString(StandardCharsets.ISO_8859_1) : null;
            }
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int end = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
            }
            line.write(b);
        }
    }
}
