package io.postback.gateway.program;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/** A tracking link: {@code GET /c/{code}} records a click for the affiliate and redirects to the destination. */
public record TrackingLink(String code, String surfaceId, String affiliateId, String destinationUrl, String promoCode,
                           Instant createdAt, Instant updatedAt) {

  public JsonObject toJson() {
    return new JsonObject()
        .put("code", code)
        .put("surfaceId", surfaceId)
        .put("affiliateId", affiliateId)
        .put("destinationUrl", destinationUrl)
        .put("promoCode", promoCode)
        .put("createdAt", createdAt.toString());
  }
}
