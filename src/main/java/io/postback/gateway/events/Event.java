package io.postback.gateway.events;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The event catalogue: every event the gateway emits, each defined once, as the record whose components
 * are its payload (the {@code data} of the webhook envelope, in this order and with these names;
 * docs/webhooks.md documents them and EventCatalogueTest holds the two together). Every event reaches
 * the outbox through {@link EventOutbox}; the conversion hot path builds its rows inside its one SQL
 * statement (ConversionWriter), with the fields defined here, which a test checks.
 */
public sealed interface Event {

  /** The event's name, the {@code event} of the envelope, e.g. {@code conversion.created}. */
  String type();

  /** The surface the event is about, or null: webhook endpoint scopes match on it. */
  default String surfaceId() {
    return null;
  }

  /** The affiliate the event is about, or null: webhook endpoint scopes match on it. */
  default String affiliateId() {
    return null;
  }

  /** The payload, as delivered. */
  default JsonObject data() {
    return JsonObject.mapFrom(this);
  }

  /** Every event type and the record that defines it. */
  Map<String, Class<? extends Event>> CATALOGUE = catalogue();

  private static Map<String, Class<? extends Event>> catalogue() {
    Map<String, Class<? extends Event>> types = new LinkedHashMap<>();
    types.put(ConversionCreated.TYPE, ConversionCreated.class);
    types.put(ConversionApproved.TYPE, ConversionApproved.class);
    types.put(ConversionRejected.TYPE, ConversionRejected.class);
    types.put(ConversionRefunded.TYPE, ConversionRefunded.class);
    types.put(CommissionCreated.TYPE, CommissionCreated.class);
    types.put(CommissionReversed.TYPE, CommissionReversed.class);
    types.put(FraudDetected.TYPE, FraudDetected.class);
    types.put(AffiliateCreated.TYPE, AffiliateCreated.class);
    types.put(AffiliateStatusChanged.APPROVED, AffiliateStatusChanged.class);
    types.put(AffiliateStatusChanged.SUSPENDED, AffiliateStatusChanged.class);
    types.put(PayoutChanged.INITIATED, PayoutChanged.class);
    types.put(PayoutChanged.COMPLETED, PayoutChanged.class);
    types.put(PayoutChanged.FAILED, PayoutChanged.class);
    types.put(EndpointDisabled.TYPE, EndpointDisabled.class);
    types.put(EndpointTest.TYPE, EndpointTest.class);
    types.put(ReportBatch.TYPE, ReportBatch.class);
    return Collections.unmodifiableMap(types);
  }

  /**
   * A conversion was recorded (a refund too: it is a conversion row of event type refund), whatever the
   * path that recorded it. {@code occurredAt} is an ISO-8601 timestamp; {@code metadata} the merchant's
   * object, or null.
   */
  record ConversionCreated(String conversionId, String surfaceId, String externalId, String eventType,
                           Long grossMinor, String currency, String occurredAt, String clickId, String promoCode,
                           String refundOf, String status, String affiliateId, long commissionMinor,
                           String commissionCurrency, String approval, JsonObject metadata) implements Event {
    public static final String TYPE = "conversion.created";

    @Override
    public String type() {
      return TYPE;
    }
  }

  /** A pending conversion was approved; its commission stands. */
  record ConversionApproved(String conversionId, String surfaceId, String externalId, String affiliateId,
                            String previousApproval, long commissionMinor, String currency) implements Event {
    public static final String TYPE = "conversion.approved";

    @Override
    public String type() {
      return TYPE;
    }
  }

  /**
   * A conversion was rejected, on arrival ({@code previousApproval} null) or later; whatever it had earned
   * is reversed.
   */
  record ConversionRejected(String conversionId, String surfaceId, String externalId, String affiliateId,
                            String previousApproval, long commissionReversedMinor) implements Event {
    public static final String TYPE = "conversion.rejected";

    @Override
    public String type() {
      return TYPE;
    }
  }

  /** A refund was applied to its original conversion ({@code conversionId}). */
  record ConversionRefunded(String conversionId, String refundId, String refundExternalId, String surfaceId,
                            String status, Long refundGrossMinor, String affiliateId, long commissionReversedMinor)
      implements Event {
    public static final String TYPE = "conversion.refunded";

    @Override
    public String type() {
      return TYPE;
    }
  }

  /** A commission ledger entry was written for a conversion. */
  record CommissionCreated(String commissionId, String conversionId, String surfaceId, String affiliateId,
                           long amountMinor, String currency) implements Event {
    public static final String TYPE = "commission.created";

    @Override
    public String type() {
      return TYPE;
    }
  }

  /**
   * Commission was reversed (a negative ledger entry): by a refund ({@code refundId}) or for a
   * {@code reason} such as rejected; the other one is null.
   */
  record CommissionReversed(String commissionId, String conversionId, String refundId, String reason,
                            String surfaceId, String affiliateId, long amountMinor, String currency) implements Event {
    public static final String TYPE = "commission.reversed";

    @Override
    public String type() {
      return TYPE;
    }
  }

  /** A conversion looks suspicious, e.g. reason click_to_conversion_too_fast. */
  record FraudDetected(String conversionId, String surfaceId, String externalId, String clickId,
                       String affiliateId, String reason) implements Event {
    public static final String TYPE = "fraud.detected";

    @Override
    public String type() {
      return TYPE;
    }
  }

  record AffiliateCreated(String affiliateId, String name, String status) implements Event {
    public static final String TYPE = "affiliate.created";

    @Override
    public String type() {
      return TYPE;
    }
  }

  /** An affiliate became active ({@code affiliate.approved}) or suspended ({@code affiliate.suspended}). */
  record AffiliateStatusChanged(@JsonIgnore String type, String affiliateId, String name, String status,
                                String previousStatus) implements Event {
    public static final String APPROVED = "affiliate.approved";
    public static final String SUSPENDED = "affiliate.suspended";

    public AffiliateStatusChanged {
      require(type, Set.of(APPROVED, SUSPENDED));
    }
  }

  /** A payout was initiated, completed or failed: the payout as the admin API shows it. */
  record PayoutChanged(@JsonIgnore String type, String id, String affiliateId, long amountMinor, String currency,
                       String status, String reference, String failureReason, String createdAt, String updatedAt)
      implements Event {
    public static final String INITIATED = "payout.initiated";
    public static final String COMPLETED = "payout.completed";
    public static final String FAILED = "payout.failed";

    public PayoutChanged {
      require(type, Set.of(INITIATED, COMPLETED, FAILED));
    }
  }

  /**
   * A webhook endpoint was disabled (410 Gone, or failing for too long). Never its URL, which is often a
   * capability URL; about no surface or affiliate, so only unscoped endpoints receive it.
   */
  record EndpointDisabled(String endpointId, String reason) implements Event {
    public static final String TYPE = "endpoint.disabled";

    @Override
    public String type() {
      return TYPE;
    }
  }

  /** Sent on request to one endpoint, to try its receiver. */
  record EndpointTest(String endpointId, String message) implements Event {
    public static final String TYPE = "endpoint.test";

    @Override
    public String type() {
      return TYPE;
    }
  }

  /**
   * One batch of an attribution report (SPEC §6, whose field names are snake_case). A batch spans
   * affiliates, so it is about no affiliate: only unscoped endpoints and those scoped to the report's
   * surface (campaign) receive it.
   */
  record ReportBatch(@JsonProperty("report_id") String reportId, @JsonProperty("campaign_id") String campaignId,
                     @JsonProperty("start_date") String startDate, @JsonProperty("end_date") String endDate,
                     @JsonProperty("batch_index") int batchIndex, @JsonProperty("total_batches") int totalBatches,
                     @JsonProperty("attribution_data") JsonArray attributionData) implements Event {
    public static final String TYPE = "report.attribution";

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public String surfaceId() {
      return campaignId;
    }
  }

  private static void require(String type, Set<String> allowed) {
    if (!allowed.contains(type)) {
      throw new IllegalArgumentException("not one of " + allowed + ": " + type);
    }
  }
}
