package io.postback.gateway.ingest;

import io.postback.gateway.attribution.Commissions;
import io.postback.gateway.conversion.Approval;
import io.postback.gateway.conversion.ConversionRequest;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.text.StorableText;

import java.time.Duration;
import java.time.Instant;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Currency;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The fields of a conversion as received, before validation. Every inbound form fills one of these;
 * {@link #validate} holds the rules of SPEC §3.1 in one place and names the field that breaks them.
 * Whatever it accepts can be stored: every text is {@link StorableText}, every number and instant is
 * inside the bounds below, so no accepted value can fail the batch statement that carries it.
 */
public final class ConversionDraft {
  public static final int MAX_EXTERNAL_ID = 255;
  public static final int MAX_TOKEN = 128;
  public static final int MAX_METADATA_BYTES = 8 * 1024;
  /** The largest accepted {@code grossMinor} (10^14): commission arithmetic is exact inside it. */
  public static final long MAX_GROSS_MINOR = Commissions.MAX_GROSS_MINOR;
  /** No conversion happened before this; it also keeps timestamps far from Postgres' -infinity. */
  public static final Instant MIN_OCCURRED_AT = Instant.parse("2000-01-01T00:00:00Z");
  /** Events that carry money and so must say how much. */
  public static final Set<String> MONEY_EVENTS = Set.of("sale", "subscribe", "deposit", "purchase");
  private static final Set<String> CURRENCIES = Currency.getAvailableCurrencies().stream()
      .map(Currency::getCurrencyCode).collect(Collectors.toUnmodifiableSet());
  /** How far ahead of the gateway's clock an occurredAt may lie (clock skew), so no original stretches its window. */
  public static final Duration MAX_FUTURE = Duration.ofHours(1);
  private static final int MAX_INSTANT_TEXT = 64;

  public String externalId;
  public String eventType;
  public Long grossMinor;
  public String currency;
  public String occurredAt;
  public String clickId;
  public String promoCode;
  public String refundOf;
  public String metadata;
  /** pending, approved or rejected; null = not stated (approved for a new conversion). */
  public String approval;
  /** The merchant's customer id (recurring commissions), or null. */
  public String customerId;

  /**
   * Checks every field and answers the request to store, or throws a 400 naming the first bad field.
   *
   * @param receivedAt           when the gateway received the conversion (the bounds on occurredAt are relative to it)
   * @param refundBackdateLimit  how far before {@code receivedAt} a refund's occurredAt may lie
   */
  public ConversionRequest validate(String surfaceId, Instant receivedAt, Duration refundBackdateLimit) {
    requireText("externalId", externalId, MAX_EXTERNAL_ID);
    requireText("eventType", eventType, 32);
    if (!lowercaseToken(eventType)) {
      throw ApiError.invalidField("eventType", "eventType must be a lowercase token such as sale, signup or refund");
    }
    boolean refund = "refund".equals(eventType);
    if (grossMinor == null && MONEY_EVENTS.contains(eventType)) {
      throw ApiError.invalidField("grossMinor", "grossMinor is required for " + eventType + " events");
    }
    if (grossMinor != null && grossMinor < 0) {
      throw ApiError.invalidField("grossMinor", "grossMinor must not be negative");
    }
    if (grossMinor != null && grossMinor > MAX_GROSS_MINOR) {
      throw ApiError.invalidField("grossMinor", "grossMinor must be at most " + MAX_GROSS_MINOR + " minor units");
    }
    if (currency != null && !CURRENCIES.contains(currency)) {
      throw ApiError.invalidField("currency", "currency must be an ISO 4217 code such as USD or EUR");
    }
    // A refund without a currency is in its original's currency (RefundWriter refuses any other).
    if (currency == null && grossMinor != null && grossMinor > 0 && !refund) {
      throw ApiError.invalidField("currency", "currency is required when grossMinor is above 0");
    }
    Instant occurred = receivedAt;
    if (occurredAt != null) {
      occurred = parseInstant(occurredAt);
      if (occurred.isAfter(receivedAt.plus(MAX_FUTURE))) {
        throw ApiError.invalidField("occurredAt", "occurredAt lies more than an hour in the future");
      }
      if (occurred.isBefore(MIN_OCCURRED_AT)) {
        throw ApiError.invalidField("occurredAt", "occurredAt must not be before " + MIN_OCCURRED_AT);
      }
      // The refund window is judged by the refund's occurredAt: a backdated refund could claw back a
      // commission whose window had closed.
      if (refund && occurred.isBefore(receivedAt.minus(refundBackdateLimit))) {
        throw ApiError.invalidField("occurredAt", "a refund's occurredAt may lie at most "
            + refundBackdateLimit.toHours() + " h before the gateway receives it");
      }
    }
    optionalText("clickId", clickId, MAX_TOKEN);
    optionalText("promoCode", promoCode, MAX_TOKEN);
    optionalText("refundOf", refundOf, MAX_EXTERNAL_ID);
    optionalText("customerId", customerId, MAX_TOKEN);
    if (refund && refundOf == null) {
      throw ApiError.invalidField("refundOf", "refundOf (the externalId of the original conversion) is required for refunds");
    }
    if (!refund && refundOf != null) {
      throw ApiError.invalidField("refundOf", "refundOf is only allowed on refund events");
    }
    if (metadata != null && metadata.length() > MAX_METADATA_BYTES) {
      throw ApiError.invalidField("metadata", "metadata must be at most " + MAX_METADATA_BYTES + " bytes of JSON");
    }
    Approval stated = Approval.parse(approval);
    if (approval != null && stated == null) {
      throw ApiError.invalidField("status", "status must be one of approved, pending or rejected");
    }
    // A refund has no approval of its own: it is stored with the default. The instant keeps what Postgres
    // stores (microseconds), so every copy of it (row, events, answers) says the same.
    return new ConversionRequest(surfaceId, externalId, eventType, grossMinor, currency,
        occurred.truncatedTo(ChronoUnit.MICROS), clickId,
        promoCode, refundOf, metadata, refund ? null : stated, customerId);
  }

  /** {@code [a-z][a-z0-9_]*} (the length is checked before): a loop, as a regex matcher costs more per postback. */
  private static boolean lowercaseToken(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (i > 0 && ((c >= '0' && c <= '9') || c == '_')))) {
        return false;
      }
    }
    return !value.isEmpty();
  }

  private static Instant parseInstant(String text) {
    if (text.length() > MAX_INSTANT_TEXT) {
      throw ApiError.invalidField("occurredAt", "occurredAt must be an ISO-8601 instant such as 2026-01-31T12:00:00Z");
    }
    try {
      Instant utc = parseUtc(text);
      return utc != null ? utc : OffsetDateTime.parse(text).toInstant();
    } catch (DateTimeException e) {
      throw ApiError.invalidField("occurredAt", "occurredAt must be an ISO-8601 instant such as 2026-01-31T12:00:00Z");
    }
  }

  /**
   * The form nearly every sender uses, {@code yyyy-MM-ddTHH:mm:ss[.f{1,9}]Z}, read without the general ISO
   * parser (which was 4 % of the hot path's CPU samples); null for any other form, which that parser then
   * reads. Field values out of range throw as the strict ISO parser does (LocalDateTime.of checks them).
   */
  static Instant parseUtc(String t) {
    int n = t.length();
    if (n < 20 || n > 30 || n == 21 || t.charAt(4) != '-' || t.charAt(7) != '-' || t.charAt(10) != 'T'
        || t.charAt(13) != ':' || t.charAt(16) != ':' || t.charAt(n - 1) != 'Z' || (n > 20 && t.charAt(19) != '.')) {
      return null;
    }
    int year = digits(t, 0, 4);
    int month = digits(t, 5, 7);
    int day = digits(t, 8, 10);
    int hour = digits(t, 11, 13);
    int minute = digits(t, 14, 16);
    int second = digits(t, 17, 19);
    int fraction = n > 20 ? digits(t, 20, n - 1) : 0;
    if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0 || fraction < 0) {
      return null;
    }
    for (int i = n - 21; i < 9; i++) {
      fraction *= 10;
    }
    return LocalDateTime.of(year, month, day, hour, minute, second, fraction).toInstant(ZoneOffset.UTC);
  }

  /** The decimal value of the ASCII digits from {@code from} to {@code to} (at most 9), or -1 if one is not a digit. */
  private static int digits(String t, int from, int to) {
    int v = 0;
    for (int i = from; i < to; i++) {
      char c = t.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }

  static void requireText(String field, String value, int max) {
    if (value == null || value.isEmpty()) {
      throw ApiError.invalidField(field, field + " is required");
    }
    optionalText(field, value, max);
  }

  private static void optionalText(String field, String value, int max) {
    if (value == null) {
      return;
    }
    if (value.isEmpty() || value.length() > max) {
      throw ApiError.invalidField(field, field + " must be 1 to " + max + " characters");
    }
    String problem = StorableText.problem(value);
    if (problem != null) {
      throw ApiError.invalidField(field, field + " " + problem);
    }
    for (int i = 0; i < value.length(); i++) {
      if (Character.isISOControl(value.charAt(i))) {
        throw ApiError.invalidField(field, field + " must not contain control characters");
      }
    }
  }
}
