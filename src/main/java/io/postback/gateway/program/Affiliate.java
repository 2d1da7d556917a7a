package io.postback.gateway.program;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/** Someone who promotes surfaces through tracking links; only an {@code active} affiliate earns. */
public record Affiliate(String id, String name, String status, Instant createdAt, Instant updatedAt) {
  public static final String PENDING = "pending";
  public static final String ACTIVE = "active";
  public static final String SUSPENDED = "suspended";

  public boolean active() {
    return ACTIVE.equals(status);
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("id", id)
        .put("name", name)
        .put("status", status)
        .put("createdAt", createdAt.toString())
        .put("updatedAt", updatedAt.toString());
  }
}
