package io.flotilla.node.upstream.balance;

/**
 * Hashes a request key as XXH64 of its UTF-8 bytes, encoding into a buffer it keeps, so a pick allocates
 * nothing; one per balancer, so one thread.
 */
final class KeyHasher {
    private byte[] buffer = new byte[128];

    /** Equal to {@code XxHash64.hash(key.toString().getBytes(UTF_8))}, lone surrogates becoming '?' as there. */
    long hash(CharSequence key) {
        int length = key.length();
        if (buffer.length < 3 * length) {
            buffer = new byte[3 * length];
        }
        byte[] b = buffer;
        int n = 0;
        for (int i = 0; i < length; i++) {
            char c = key.charAt(i);
            if (c < 0x80) {
                b[n++] = (byte) c;
            } else if (c < 0x800) {
                b[n++] = (byte) (0xC0 | c >> 6);
                b[n++] = (byte) (0x80 | c & 0x3F);
            } else if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(key.charAt(i + 1))) {
                    int cp = Character.toCodePoint(c, key.charAt(++i));
                    b[n++] = (byte) (0xF0 | cp >> 18);
                    b[n++] = (byte) (0x80 | cp >> 12 & 0x3F);
                    b[n++] = (byte) (0x80 | cp >> 6 & 0x3F);
                    b[n++] = (byte) (0x80 | cp & 0x3F);
                } else {
                    b[n++] = '?';
                }
            } else {
                b[n++] = (byte) (0xE0 | c >> 12);
                b[n++] = (byte) (0x80 | c >> 6 & 0x3F);
                b[n++] = (byte) (0x80 | c & 0x3F);
            }
        }
        return XxHash64.hash(b, 0, n, 0);
    }
}
