package io.flotilla.node.upstream.balance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** XXH64 against the reference implementation, and the UTF-8 encoding of keys on the way in. */
class BalanceHashTest {
    private static long xxh64(String s, long seed) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return XxHash64.hash(b, 0, b.length, seed);
    }

    @Test
    void matchesPublishedVectors() {
        assertEquals(0xEF46DB3751D8E999L, xxh64("", 0));
        assertEquals(0xD24EC4F1A98C6E5BL, xxh64("a", 0));
        assertEquals(0x44BC2CF5AD770999L, xxh64("abc", 0));
        assertEquals(0xFBCEA83C8A378BF1L, xxh64("Nobody inspects the spammish repetition", 0));
        assertEquals(0x32DD38952C4BC720L, xxh64("xxhash", 0));
        assertEquals(0xB559B98D844E0635L, xxh64("xxhash", 20141025));
    }

    /** Every path through the function: the 32-byte stripes, 8-byte words, a 4-byte word, single bytes. */
    @Test
    void matchesTheReferenceLibraryAtEveryTailLength() {
        // From libxxhash 0.8.1's XXH64(data, n, seed), data[i] = (31 * i + 7) mod 256.
        int[] lengths = {0, 1, 3, 4, 7, 8, 9, 15, 16, 31, 32, 33, 63, 64, 65, 100};
        long[] seed0 = {
            0xef46db3751d8e999L, 0xa96c7f0ce858bbb7L, 0x56e6957632a487f9L, 0xc60d15b1e3ff8f04L,
            0xafbefc3d6c6f9a8eL, 0x3da5c7aa269683e0L, 0x4b17a9ba9e215c09L, 0xae2a37eb9357caa7L,
            0xa19ad429b02bc413L, 0x4a74f3a1a39ad4a1L, 0x8d57d6a4671cc43dL, 0x62c9fd21ed857664L,
            0x5c320a0d2707057fL, 0x7bbabbc45729d17eL, 0xf3980c34bae65dc1L, 0xefa0ad2d3e70c151L,
        };
        long[] seedGolden = {
            0xc4349fc93c010000L, 0x585882422a6165e7L, 0x5acb303e78133c22L, 0x7d51d5e2461732b3L,
            0x2ce9adec2b2c8104L, 0x758848f033fa76a2L, 0xd4576cf554b7d929L, 0xa18d5c90d722cee3L,
            0xe3594f9058b426e7L, 0x8137041f5af88413L, 0x184ebcf3745cd46cL, 0x52fac3c981f3cc2eL,
            0x64ef99a2e94cc7bdL, 0xf7f22435fe1ab128L, 0x7a0b76a812617c73L, 0xbc7ab33be7528c18L,
        };
        byte[] data = new byte[100 + 5];
        for (int i = 0; i < 100; i++) {
            data[i + 5] = (byte) (31 * i + 7);
        }
        for (int k = 0; k < lengths.length; k++) {
            // At offset 5, so reads that ignore the offset or assume alignment would show.
            assertEquals(seed0[k], XxHash64.hash(data, 5, lengths[k], 0), "length " + lengths[k]);
            assertEquals(
                    seedGolden[k], XxHash64.hash(data, 5, lengths[k], 0x9E3779B97F4A7C15L), "length " + lengths[k]);
        }
    }

    @Test
    void keysHashAsTheirUtf8Bytes() {
        KeyHasher hasher = new KeyHasher();
        assertEquals(0xB21827158C9ECED1L, hasher.hash("héllo wörld ✓ 𝄞"), "libxxhash on the UTF-8 bytes");
        String[] keys = {
            "",
            "10.0.0.1",
            "2001:db8::1",
            "session=Ωμέγα",
            "€",
            "\uD834\uDD1E",
            "lone \uD800 high",
            "lone \uDC00 low",
            "end \uD800",
            "x".repeat(1000) + "é".repeat(500)
        };
        for (String key : keys) {
            assertEquals(xxh64(key, 0), hasher.hash(key), key);
            assertEquals(xxh64(key, 0), hasher.hash(new StringBuilder(key)), "any CharSequence: " + key);
        }
    }
}
