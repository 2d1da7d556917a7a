package io.postback.gateway;

import io.postback.gateway.admin.SurfaceAdmin;
import io.postback.gateway.ingest.SignatureVerifier;
import io.postback.gateway.surface.Surface;
import io.postback.gateway.surface.SurfaceStore;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Ensures the demo surface exists and prints how to use it: the run contract's "working default". */
final class DemoBanner {
  static final String DEMO_SURFACE = "demo";

  private DemoBanner() {
  }

  static void print(Gateway gateway) throws Exception {
    SurfaceStore store = new SurfaceStore(gateway.controlPool());
    Surface demo = store.find(DEMO_SURFACE).await(30, TimeUnit.SECONDS);
    if (demo == null) {
      demo = new SurfaceAdmin(store, gateway.surfaces(), gateway.config().secretGracePeriod())
          .create(DEMO_SURFACE, "Demo surface", null)
          .await(30, TimeUnit.SECONDS);
    }
    int port = gateway.config().httpPort();
    String timestamp = String.valueOf(System.currentTimeMillis());
    String body = "{\"externalId\":\"order-" + timestamp + "\",\"eventType\":\"sale\",\"grossMinor\":4999,\"currency\":\"USD\"}";
    String signature = SignatureVerifier.signHex(demo.secret(), timestamp, body.getBytes(StandardCharsets.UTF_8));
    System.out.println("""

        ==================================================================
         Postback Gateway is running on http://localhost:%1$d
         (embedded Postgres and Redis, data kept under %2$s)

         demo surface id : %3$s
         demo secret     : %4$s
         admin token     : %5$s
         console         : http://localhost:%1$d/console/  (sign in with the admin token)

         A signed postback (valid for 5 minutes from now):

        curl -s -X POST http://localhost:%1$d/v1/conversions \\
          -H 'content-type: application/json' \\
          -H 'x-ea-surface: %3$s' \\
          -H 'x-ea-timestamp: %6$s' \\
          -H 'x-ea-signature: %7$s' \\
          -d '%8$s'

         Sign your own: hex(HMAC-SHA256(secret, "<timestamp>.<body>")), e.g.
          ts=$(date +%%s%%3N); body='%8$s'
          sig=$(printf '%%s.%%s' "$ts" "$body" | openssl dgst -sha256 -hmac '%4$s' | cut -d' ' -f2)
        ==================================================================
        """.formatted(port, gateway.config().dataDir().toAbsolutePath(), demo.id(), demo.secret(),
        gateway.backends().adminToken(), timestamp, signature, body));
  }
}
