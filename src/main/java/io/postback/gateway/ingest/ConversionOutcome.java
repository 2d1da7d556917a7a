package io.postback.gateway.ingest;

import io.vertx.core.json.JsonObject;

/**
 * What the gateway answered for a conversion the first time; a duplicate gets exactly this back with
 * {@code "duplicate": true}.
 */
public record ConversionOutcome(String status, String conversionId, String affiliateId, long commissionMinor,
                                String currency) {

  public JsonObject toJson(boolean duplicate) {
    JsonObject json = new JsonObject()
        .put("status", status)
        .put("duplicate", duplicate)
        .put("conversionId", conversionId)
        .put("affiliateId", affiliateId)
        .put("commissionMinor", commissionMinor)
        .put("currency", currency);
    return json;
  }

  public static ConversionOutcome fromJson(JsonObject json) {
    return new ConversionOutcome(json.getString("status"), json.getString("conversionId"),
        json.getString("affiliateId"), json.getLong("commissionMinor", 0L), json.getString("currency"));
  }
}
