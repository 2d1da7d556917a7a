package io.postback.gateway.api;

import io.postback.gateway.http.ApiContract;
import io.postback.gateway.support.SharedGateway;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Route;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The OpenAPI document and the router agree: every route the gateway mounts on its public port is in the
 * document, and every documented operation is mounted. (The admin operations cannot drift by
 * construction: the gateway refuses to start with a documented admin operation that has no handler.)
 */
class RouteCoverageTest {
  /**
   * Served, but not API operations (or documented elsewhere): add a route here only with the reason.
   * Keys are "METHOD /path" with Vert.x's path syntax turned into OpenAPI's ({id}, and * for a prefix).
   */
  private static final Set<String> NOT_IN_DOCUMENT = Set.of(
      // The API browser's own script and the Swagger UI files it loads (the page is /docs/api).
      "GET /docs/api/init.js",
      "GET /docs/api/swagger-ui/*",
      // The console's and the portal's files below their pages (GET /console, GET /portal), with the
      // security headers every one of them carries.
      "ANY /console/*", "GET /console/*", "GET /console/lib/uplot/*",
      "ANY /portal/*", "GET /portal/*");

  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();

  @Test
  void everyMountedRouteIsDocumented() {
    Set<String> undocumented = new TreeSet<>(mounted());
    undocumented.removeAll(documented());
    undocumented.removeAll(NOT_IN_DOCUMENT);
    assertThat(undocumented).as("routes the gateway serves that openapi.yaml does not describe").isEmpty();
  }

  @Test
  void everyDocumentedRouteIsMounted() {
    Set<String> missing = new TreeSet<>(documented());
    missing.removeAll(mounted());
    assertThat(missing).as("operations in openapi.yaml that no route serves").isEmpty();
  }

  @Test
  void theExclusionsAreStillServed() {
    assertThat(mounted()).containsAll(NOT_IN_DOCUMENT);
  }

  /**
   * The postback, click and health paths are not tried against the admin and portal patterns first, and
   * the root handlers (client address, access log, deadline, gates) still run before them.
   */
  @Test
  void theHotPathsAreMatchedAfterTheRootHandlersAndBeforeAnyOperationOfTheContract() {
    List<String> order = new ArrayList<>();
    for (Route route : gateway.gateway().publicRoutes()) {
      order.add(route.getPath() == null ? "(root handlers)" : route.getPath());
    }
    assertThat(order.get(0)).as("the first route of %s", order).isEqualTo("(root handlers)");
    int firstOperation = order.stream().filter(path -> path.startsWith("/admin") || path.startsWith("/portal/api")
        || path.startsWith("/v1/reports")).mapToInt(order::indexOf).min().orElseThrow();
    for (String hot : List.of("/v1/conversions", "/v1/conversions/batch", "/v1/track/:eventType", "/v1/postback",
        "/v1/postback/:surface/:token", "/c/:code", "/health/live", "/health/ready", "/v1/providers/stripe/:surfaceId")) {
      assertThat(order.indexOf(hot)).as("position of %s among %s", hot, order).isBetween(1, firstOperation - 1);
    }
  }

  /** "METHOD /path" of every operation in the document. */
  private static Set<String> documented() {
    Set<String> out = new TreeSet<>();
    JsonObject paths = ApiContract.load().document().getJsonObject("paths");
    for (String path : paths.fieldNames()) {
      for (String method : paths.getJsonObject(path).fieldNames()) {
        if (!method.equals("parameters")) {
          out.add(method.toUpperCase(Locale.ROOT) + " " + path);
        }
      }
    }
    return out;
  }

  /** "METHOD /path" of every route with a path on the public router (root handlers have none). */
  private static Set<String> mounted() {
    Set<String> out = new TreeSet<>();
    for (Route route : gateway.gateway().publicRoutes()) {
      if (route.getPath() == null) {
        continue;
      }
      // A prefix route ("/docs/api/swagger-ui/*") has the path "/docs/api/swagger-ui/" and is not exact.
      String path = route.getPath().replaceAll(":([A-Za-z0-9_]+)", "{$1}") + (route.isExactPath() ? "" : "*");
      Set<HttpMethod> methods = route.methods();
      if (methods == null || methods.isEmpty()) {
        out.add("ANY " + path);
      } else {
        methods.forEach(m -> out.add(m.name() + " " + path));
      }
    }
    return out;
  }
}
