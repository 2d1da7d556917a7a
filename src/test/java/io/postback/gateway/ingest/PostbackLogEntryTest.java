package io.postback.gateway.ingest;

import io.postback.gateway.conversion.Approval;
import io.postback.gateway.conversion.ConversionOutcome;
import io.postback.gateway.conversion.ConversionStatus;
import io.postback.gateway.http.ApiError;
import io.postback.gateway.ingest.ConversionPipeline.Answer;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What one write of the postback log sends: one JSON object per entry, each as the log shows it, stamped. */
class PostbackLogEntryTest {
  private static final String AT = "2026-12-06T17:00:00.123Z";
  private static final long AT_MILLIS = Instant.parse(AT).toEpochMilli();

  @Test
  void eachEntryOfAFlushIsItsOwnObject() {
    ConversionOutcome outcome = new ConversionOutcome(ConversionStatus.ATTRIBUTED, "cv_1", null, 250, "EUR",
        Approval.PENDING);
    List<PostbackLog.Entry> entries = List.of(
        new PostbackLog.Entry("conversions", 200, "o-\"1\"", "sale", null, "203.0.113.5")
            .answered(Answer.of(outcome, true, null), false),
        new PostbackLog.Entry("conversions", 400, "o-2", null, null, null)
            .rejected(ApiError.invalidField("grossMinor", "grossMinor must be an integer")),
        new PostbackLog.Entry("provider", 503, "o-3", "charge.refunded", "evt_9", "::1")
            .answered(new Answer(new JsonObject().put("status", "accepted").put("externalId", "ch_7")
                .put("accepted", 1).put("reason", null), false), true));

    entries.forEach(e -> e.at = AT_MILLIS);
    entries.get(2).at = AT_MILLIS + 1;

    List<Buffer> encoded = PostbackLog.Entry.encode(entries);

    assertThat(encoded).hasSize(3);
    assertThat(new JsonObject(encoded.get(0))).isEqualTo(new JsonObject()
        .put("form", "conversions").put("httpStatus", 200).put("externalId", "o-\"1\"").put("eventType", "sale")
        .put("ip", "203.0.113.5").put("outcome", "attributed").put("duplicate", true).put("conversionId", "cv_1")
        .put("affiliateId", null).put("commissionMinor", 250).put("approval", "pending").put("at", AT));
    assertThat(new JsonObject(encoded.get(1))).isEqualTo(new JsonObject()
        .put("form", "conversions").put("httpStatus", 400).put("externalId", "o-2").put("outcome", "rejected")
        .put("error", "invalid_field").put("message", "grossMinor must be an integer").put("field", "grossMinor")
        .put("at", AT));
    assertThat(new JsonObject(encoded.get(2))).as("the answer's externalId is the one shown").isEqualTo(new JsonObject()
        .put("form", "provider").put("httpStatus", 503).put("externalId", "ch_7").put("eventType", "charge.refunded")
        .put("providerEventId", "evt_9").put("ip", "::1").put("afterDeadline", true).put("outcome", "accepted")
        .put("accepted", 1).put("reason", null).put("at", "2026-12-06T17:00:00.124Z"));
    assertThat(encoded).allSatisfy(e -> assertThat(e.toString()).startsWith("{").endsWith("}"));
  }
}
