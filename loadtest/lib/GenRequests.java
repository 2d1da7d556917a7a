import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Pre-signs postback requests for the load test (JDK 17, run as {@code java GenRequests.java ...}).
 *
 * <p>Output: one request per line, {@code <timestamp>\t<signature>\t<body>\n}, where signature is the
 * lowercase hex HMAC-SHA256 of the bytes {@code "<timestamp>.<body>"} keyed with the UTF-8 bytes of the
 * surface secret. Every line has the same length (the sequence number in the externalId is
 * zero-padded), so the wrk script can slice the file by byte offset without scanning it.
 *
 * <pre>
 * LT_SECRET=... java loadtest/lib/GenRequests.java --count 600000 --prefix bench-RUN-m --out reqs.tsv [--timestamp MILLIS]
 * </pre>
 *
 * The secret is read from the environment variable LT_SECRET (or --secret, which shows in ps).
 */
public final class GenRequests {

    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final int SIG_LEN = 64;

    public static void main(String[] args) throws IOException, GeneralSecurityException {
        long count = -1;
        String prefix = null;
        String out = null;
        String secret = System.getenv("LT_SECRET");
        long timestamp = System.currentTimeMillis();
        int width = 9;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                usage("missing value for " + a);
            }
            switch (a) {
                case "--count" -> count = Long.parseLong(args[++i]);
                case "--prefix" -> prefix = args[++i];
                case "--out" -> out = args[++i];
                case "--secret" -> secret = args[++i];
                case "--timestamp" -> timestamp = Long.parseLong(args[++i]);
                case "--width" -> width = Integer.parseInt(args[++i]);
                default -> usage("unknown option " + a);
            }
        }
        if (count < 1 || prefix == null || out == null) {
            usage("--count, --prefix and --out are required");
        }
        if (secret == null || secret.isEmpty()) {
            usage("secret missing: set LT_SECRET");
        }
        if (!prefix.matches("[A-Za-z0-9._-]+")) {
            usage("prefix must match [A-Za-z0-9._-]+ (it is embedded in JSON unescaped)");
        }
        if (String.valueOf(count - 1).length() > width) {
            usage("count " + count + " does not fit in --width " + width);
        }

        long t0 = System.nanoTime();

        // Body template; the sequence number and the amount are patched in place for each request.
        // occurredAt is accepted by the gateway and required by the lean reference, so one body
        // shape serves both (same bytes to verify and parse).
        String occurredAt = java.time.Instant.ofEpochMilli(timestamp).truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                .toString();
        String head = "{\"externalId\":\"" + prefix + "-";
        String mid = "\",\"eventType\":\"sale\",\"grossMinor\":";
        String tail = ",\"currency\":\"USD\",\"occurredAt\":\"" + occurredAt + "\"}";
        byte[] body = (head + "0".repeat(width) + mid + "0000" + tail).getBytes(StandardCharsets.US_ASCII);
        int seqPos = head.length();
        int amountPos = seqPos + width + mid.length();

        byte[] ts = Long.toString(timestamp).getBytes(StandardCharsets.US_ASCII);

        // Line layout: ts \t sig \t body \n
        int lineLen = ts.length + 1 + SIG_LEN + 1 + body.length + 1;
        byte[] line = new byte[lineLen];
        System.arraycopy(ts, 0, line, 0, ts.length);
        line[ts.length] = '\t';
        int sigOff = ts.length + 1;
        line[sigOff + SIG_LEN] = '\t';
        int bodyOff = sigOff + SIG_LEN + 1;
        line[lineLen - 1] = '\n';

        // MAC input: ts . body
        byte[] macInput = new byte[ts.length + 1 + body.length];
        System.arraycopy(ts, 0, macInput, 0, ts.length);
        macInput[ts.length] = '.';
        int macBodyOff = ts.length + 1;

        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        byte[] digest = new byte[mac.getMacLength()];

        try (OutputStream os = new BufferedOutputStream(new FileOutputStream(out), 1 << 20)) {
            for (long n = 0; n < count; n++) {
                writeDigits(body, seqPos, width, n);
                writeDigits(body, amountPos, 4, 1000 + (n * 7919) % 9000); // 1000..9999 minor units
                System.arraycopy(body, 0, macInput, macBodyOff, body.length);
                mac.update(macInput);
                mac.doFinal(digest, 0);
                for (int i = 0; i < digest.length; i++) {
                    line[sigOff + 2 * i] = HEX[(digest[i] >> 4) & 0xf];
                    line[sigOff + 2 * i + 1] = HEX[digest[i] & 0xf];
                }
                System.arraycopy(body, 0, line, bodyOff, body.length);
                os.write(line);
            }
        }

        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.err.printf("GenRequests: %d requests, %d bytes/line, %d MB, ts=%d, %d ms -> %s%n",
                count, lineLen, count * lineLen / (1024 * 1024), timestamp, ms, out);
    }

    private static void writeDigits(byte[] buf, int pos, int width, long value) {
        for (int i = pos + width - 1; i >= pos; i--) {
            buf[i] = (byte) ('0' + (value % 10));
            value /= 10;
        }
    }

    private static void usage(String msg) {
        System.err.println("GenRequests: " + msg);
        System.err.println("usage: LT_SECRET=<secret> java GenRequests.java --count N --prefix P --out FILE"
                + " [--timestamp MILLIS] [--width DIGITS]");
        System.exit(2);
    }
}
