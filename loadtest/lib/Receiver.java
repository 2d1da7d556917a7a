import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServerOptions;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The benchmark's webhook receiver (JDK single-file program, Vert.x from the gateway jar):
 * {@code java -cp target/postback-gateway.jar loadtest/lib/Receiver.java [port]}.
 *
 * <p>Answers every request to {@code /hook/...} (a webhook's POST, an affiliate postback's GET) with 204
 * once the body is in, and remembers each (path, webhook-id or the postback's {@code tx} parameter) pair,
 * i.e. (destination, event), so that the harness can tell lost deliveries
 * (expected pairs never seen) from doubled ones (a pair seen twice). {@code GET /stats} answers
 * {@code {"received":N,"distinct":N,"duplicates":N}}. Prints {@code READY port=N} once listening
 * (port 0 = any free port).
 */
public final class Receiver {
  public static void main(String[] args) {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setPreferNativeTransport(true));
    Set<String> seen = ConcurrentHashMap.newKeySet();
    LongAdder received = new LongAdder();
    LongAdder duplicates = new LongAdder();
    vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port).setTcpNoDelay(true))
        .requestHandler(req -> {
          if ("/stats".equals(req.path())) {
            req.response().putHeader("content-type", "application/json")
                .end("{\"received\":" + received.sum() + ",\"distinct\":" + seen.size() + ",\"duplicates\":"
                    + duplicates.sum() + "}");
            return;
          }
          req.end().onComplete(ar -> {
            received.increment();
            // A webhook names its event in webhook-id; an affiliate postback in its rendered tx={txid}.
            String event = req.getHeader("webhook-id") != null ? req.getHeader("webhook-id") : req.getParam("tx");
            if (!seen.add(req.path() + ' ' + event)) {
              duplicates.increment();
            }
            req.response().setStatusCode(204).end();
          });
        })
        .listen()
        .onSuccess(server -> System.out.println("READY port=" + server.actualPort()))
        .onFailure(err -> {
          err.printStackTrace();
          System.exit(1);
        });
  }
}
