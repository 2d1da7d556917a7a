package io.postback.gateway.program;

import io.vertx.core.json.JsonObject;

import java.time.Instant;

/**
 * What an affiliate earns for one event type on one surface: a flat amount (CPA) in {@code currency},
 * or {@code percentBps} basis points of the conversion's gross (in the conversion's currency).
 * A rule with an affiliate overrides the surface default (affiliateId null) for that affiliate.
 */
public record CommissionRule(String id, String surfaceId, String eventType, String affiliateId, Long flatMinor,
                             Integer percentBps, String currency, Instant updatedAt) {

  /** Identity of the rule's slot: one rule per surface, event type and (optional) affiliate. */
  public String key() {
    return key(surfaceId, eventType, affiliateId);
  }

  public static String key(String surfaceId, String eventType, String affiliateId) {
    return surfaceId + '\n' + eventType + '\n' + (affiliateId == null ? "" : affiliateId);
  }

  public JsonObject toJson() {
    return new JsonObject()
        .put("id", id)
        .put("surfaceId", surfaceId)
        .put("eventType", eventType)
        .put("affiliateId", affiliateId)
        .put("flatMinor", flatMinor)
        .put("percentBps", percentBps)
        .put("currency", currency)
        .put("updatedAt", updatedAt.toString());
  }
}
