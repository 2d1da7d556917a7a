package io.postback.gateway.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The API contract for people and tools: {@code GET /openapi.json}, and {@code /docs/api}, a page that
 * renders it with Swagger UI from its WebJar. The page runs no inline script, so its Content-Security-Policy
 * allows scripts from the gateway only.
 */
public final class ApiDocs {
  private static final String SWAGGER_UI = "META-INF/resources/webjars/swagger-ui/";
  // Swagger UI sets inline styles and shows data: images; scripts come from the gateway alone.
  private static final String CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
      + "script-src 'self'; object-src 'none'; frame-ancestors 'none'";

  private final Buffer document;
  private final Buffer page;
  private final Buffer init;
  private final String swaggerUiRoot;

  private ApiDocs(Buffer document, Buffer page, Buffer init, String swaggerUiRoot) {
    this.document = document;
    this.page = page;
    this.init = init;
    this.swaggerUiRoot = swaggerUiRoot;
  }

  /** Reads the page, its script and the Swagger UI version from the classpath (blocking: at start). */
  public static ApiDocs load(ApiContract contract) {
    Properties webjar = new Properties();
    try (InputStream in = resource("META-INF/maven/org.webjars/swagger-ui/pom.properties")) {
      webjar.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new ApiDocs(contract.json(), Buffer.buffer(bytes("openapi/index.html")), Buffer.buffer(bytes("openapi/init.js")),
        SWAGGER_UI + webjar.getProperty("version"));
  }

  public void mount(Router router) {
    router.get("/openapi.json").handler(ctx -> send(ctx, "application/json", document));
    router.get("/docs/api").handler(ctx -> send(ctx, "text/html; charset=utf-8", page));
    router.get("/docs/api/init.js").handler(ctx -> send(ctx, "text/javascript; charset=utf-8", init));
    router.get("/docs/api/swagger-ui/*").handler(StaticHandler.create(swaggerUiRoot).setDirectoryListing(false));
  }

  private void send(RoutingContext ctx, String type, Buffer body) {
    ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, type)
        .putHeader("content-security-policy", CSP)
        .putHeader("x-content-type-options", "nosniff")
        .end(body);
  }

  private static InputStream resource(String name) {
    InputStream in = ApiDocs.class.getClassLoader().getResourceAsStream(name);
    if (in == null) {
      throw new IllegalStateException(name + " is missing from the classpath");
    }
    return in;
  }

  private static byte[] bytes(String name) {
    try (InputStream in = resource(name)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
