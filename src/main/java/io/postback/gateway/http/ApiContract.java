package io.postback.gateway.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The OpenAPI document of the public API ({@value #RESOURCE}), read once at start. It is served as
 * {@code /openapi.json}, and its guarded operations (those the admin token or a portal token guards) are what
 * the router builder mounts, so the contract validates every admin and portal request. The ingest hot path is documented here
 * but stays hand-written; its schemas are tested against what it accepts.
 */
public final class ApiContract {
  public static final String RESOURCE = "openapi/openapi.yaml";
  public static final String ADMIN_SCHEME = "adminToken";
  public static final String PORTAL_SCHEME = "portalToken";

  private final JsonObject document;
  private final Buffer json;

  private ApiContract(JsonObject document) {
    this.document = document;
    this.json = document.toBuffer();
  }

  /** Reads the document from the classpath (blocking: call it at start, not on an event loop). */
  public static ApiContract load() {
    try (InputStream in = ApiContract.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is missing from the classpath");
      }
      // SafeConstructor: plain maps, lists and scalars; every date in the document is quoted, so stays text.
      Map<String, Object> yaml = new Yaml(new SafeConstructor(new LoaderOptions())).load(in);
      return new ApiContract(new JsonObject(yaml).copy());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The whole document, as written (references unresolved). */
  public JsonObject document() {
    return document;
  }

  /** The document encoded once, for {@code GET /openapi.json}. */
  public Buffer json() {
    return json;
  }

  /** The document cut down to the operations that require a token: the router builder mounts these. */
  public JsonObject guardedOperations() {
    JsonObject admin = document.copy();
    JsonObject paths = new JsonObject();
    document.getJsonObject("paths").forEach(path -> {
      JsonObject kept = new JsonObject();
      ((JsonObject) path.getValue()).forEach(entry -> {
        if (entry.getValue() instanceof JsonObject operation && requiresToken(operation)) {
          kept.put(entry.getKey(), operation);
        } else if ("parameters".equals(entry.getKey())) {
          kept.put(entry.getKey(), entry.getValue());
        }
      });
      if (kept.fieldNames().stream().anyMatch(name -> !name.equals("parameters"))) {
        paths.put(path.getKey(), kept);
      }
    });
    return admin.put("paths", paths);
  }

  private static boolean requiresToken(JsonObject operation) {
    JsonArray security = operation.getJsonArray("security");
    return security != null && security.stream()
        .anyMatch(requirement -> requirement instanceof JsonObject r && (r.containsKey(ADMIN_SCHEME) || r.containsKey(PORTAL_SCHEME)));
  }
}
