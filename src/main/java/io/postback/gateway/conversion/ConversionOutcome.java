package io.postback.gateway.conversion;

import io.vertx.core.json.JsonObject;

/**
 * What the gateway answered for a conversion the first time; a duplicate gets exactly this back with
 * {@code "duplicate": true}. After an approval transition (pending → approved, → rejected) the outcome
 * is the conversion's state after the transition, and that is what later duplicates get.
 *
 * @param approval pending, approved or rejected (refunds: approved, the column default)
 */
public record ConversionOutcome(ConversionStatus status, String conversionId, String affiliateId, long commissionMinor,
                                String currency, Approval approval) {

  public JsonObject toJson(boolean duplicate) {
    JsonObject json = new JsonObject()
        .put("status", status.wire())
        .put("duplicate", duplicate)
        .put("conversionId", conversionId)
        .put("affiliateId", affiliateId)
        .put("commissionMinor", commissionMinor)
        .put("currency", currency)
        .put("approval", approval.wire());
    return json;
  }

  /** Reads an outcome remembered in Redis; one remembered before approvals existed was approved. */
  public static ConversionOutcome fromJson(JsonObject json) {
    return new ConversionOutcome(ConversionStatus.of(json.getString("status")), json.getString("conversionId"),
        json.getString("affiliateId"), json.getLong("commissionMinor", 0L), json.getString("currency"),
        Approval.parse(json.getString("approval", Approval.APPROVED.wire())));
  }
}
