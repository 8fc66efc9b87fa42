package io.flotilla.node.compress;

import java.util.List;

/**
 * Content negotiation on {@code Accept-Encoding} (RFC 9110 §12.5.3): the client's q-values decide,
 * ties go to the server's order of preference. {@code *} stands for every coding the field does not
 * name; identity is acceptable unless refused ({@code identity;q=0}, or {@code *;q=0} without an
 * identity entry). A request without the field gets identity: the RFC would allow any coding, but
 * clients that decode send the field, and NGINX, Apache and every CDN read its absence this way.
 */
final class AcceptEncoding {
    private static final int UNSET = -1;

    private AcceptEncoding() {}

    /**
     * The coding to answer with.
     *
     * @param fields     the request's Accept-Encoding field lines (empty when it sent none)
     * @param preference the codings offered, most preferred first (available ones only)
     * @return one of {@code preference}, or {@link Coding#IDENTITY} when none is acceptable or
     *         identity is preferred; identity also when everything is refused (RFC 9110 §12.5.3
     *         lets the server send it rather than 406)
     */
    static Coding negotiate(List<String> fields, List<Coding> preference) {
        if (fields.isEmpty()) {
            return Coding.IDENTITY;
        }
        // q-values in thousandths, by Coding ordinal; UNSET when the field does not name it.
        int[] q = {UNSET, UNSET, UNSET, UNSET};
        int star = UNSET;
        for (String field : fields) {
            int i = 0;
            int n = field.length();
            while (i < n) {
                int end = field.indexOf(',', i);
                if (end < 0) {
                    end = n;
                }
                String member = field.substring(i, end).trim();
                i = end + 1;
                if (member.isEmpty()) {
                    continue;
                }
                int semi = member.indexOf(';');
                String token = (semi < 0 ? member : member.substring(0, semi)).trim();
                int weight = semi < 0 ? 1000 : qValue(member.substring(semi + 1));
                if (weight < 0) {
                    continue; // a malformed weight: ignore the member rather than guess
                }
                if (token.equals("*")) {
                    star = Math.max(star, weight);
                    continue;
                }
                Coding c = Coding.of(token);
                if (c != null) {
                    q[c.ordinal()] = Math.max(q[c.ordinal()], weight);
                }
            }
        }
        Coding best = Coding.IDENTITY;
        int bestQ = 0;
        for (Coding c : preference) {
            int weight = q[c.ordinal()] != UNSET ? q[c.ordinal()] : star != UNSET ? star : 0;
            if (weight > bestQ) {
                best = c;
                bestQ = weight;
            }
        }
        if (best == Coding.IDENTITY) {
            return Coding.IDENTITY;
        }
        int identity = q[Coding.IDENTITY.ordinal()];
        if (identity == UNSET) {
            identity = star != UNSET && star == 0 ? 0 : 1; // unnamed identity: acceptable, at the lowest rank
        }
        return identity > bestQ ? Coding.IDENTITY : best;
    }

    /** The q parameter's value in thousandths (RFC 9110 §12.4.2), or -1 when malformed. */
    static int qValue(String params) {
        for (String param : params.split(";")) {
            String p = param.trim();
            if (p.length() < 2 || (p.charAt(0) != 'q' && p.charAt(0) != 'Q')) {
                continue;
            }
            String v = p.substring(1).trim();
            if (!v.startsWith("=")) {
                continue;
            }
            v = v.substring(1).trim();
            if (v.isEmpty() || v.length() > 5 || (v.charAt(0) != '0' && v.charAt(0) != '1')) {
                return -1;
            }
            if (v.length() == 1) {
                return v.charAt(0) == '1' ? 1000 : 0;
            }
            if (v.charAt(1) != '.') {
                return -1;
            }
            int value = (v.charAt(0) - '0') * 1000;
            int scale = 100;
            for (int k = 2; k < v.length(); k++, scale /= 10) {
                char d = v.charAt(k);
                if (d < '0' || d > '9') {
                    return -1;
                }
                value += (d - '0') * scale;
            }
            return value > 1000 ? -1 : value;
        }
        return 1000;
    }
}
