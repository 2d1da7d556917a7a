package io.postback.gateway.conversion;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The byte form of an outcome: what Redis remembers and what a duplicate is answered with. */
class ConversionOutcomeTest {

  @Test
  void encodesWhatToJsonHolds() {
    for (ConversionStatus status : ConversionStatus.values()) {
      for (Approval approval : Approval.values()) {
        ConversionOutcome outcome = new ConversionOutcome(status, "cv_01m9\"\\\u00e9", null, Long.MAX_VALUE, "EUR", approval);
        for (boolean duplicate : new boolean[] {false, true}) {
          Buffer encoded = outcome.encode(duplicate);
          assertThat(new JsonObject(encoded)).isEqualTo(outcome.toJson(duplicate));
          assertThat(encoded.toString()).as("the same fields in the same order")
              .isEqualTo(outcome.toJson(duplicate).encode());
          assertThat(ConversionOutcome.decode(encoded)).isEqualTo(outcome);
          if (!duplicate) {
            assertThat(ConversionOutcome.repeatAnswer(encoded)).as("a repeat's answer, byte for byte")
                .isEqualTo(outcome.encode(true));
            assertThat(ConversionOutcome.repeatOfFirstAnswer(encoded)).as("the same, without reading the outcome")
                .isEqualTo(outcome.encode(true));
          } else {
            assertThat(ConversionOutcome.repeatOfFirstAnswer(encoded)).as("not a first answer").isNull();
          }
        }
      }
    }
  }

  @Test
  void readsAnOutcomeRememberedBeforeApprovalsAsApproved() {
    ConversionOutcome read = ConversionOutcome.decode(Buffer.buffer(
        "{\"status\":\"attributed\",\"duplicate\":false,\"conversionId\":\"cv_1\",\"affiliateId\":\"aff_1\","
            + "\"commissionMinor\":250,\"currency\":\"USD\"}"));
    assertThat(read).isEqualTo(new ConversionOutcome(ConversionStatus.ATTRIBUTED, "cv_1", "aff_1", 250, "USD",
        Approval.APPROVED));
  }

  @Test
  void passesOverFieldsItDoesNotKnow() {
    ConversionOutcome read = ConversionOutcome.decode(Buffer.buffer(
        "{\"later\":{\"status\":\"refunded\",\"x\":[1,{\"approval\":\"rejected\"}]},\"status\":\"unattributed\","
            + "\"conversionId\":\"cv_2\",\"affiliateId\":null,\"commissionMinor\":0,\"currency\":null,"
            + "\"approval\":\"pending\",\"tail\":[true]}"));
    assertThat(read).isEqualTo(new ConversionOutcome(ConversionStatus.UNATTRIBUTED, "cv_2", null, 0, null,
        Approval.PENDING));
  }

  @Test
  void aRepeatAnswerNeedsTheFieldAsEncodeWritesIt() {
    assertThat(ConversionOutcome.repeatAnswer(Buffer.buffer("{\"status\":\"attributed\",\"duplicate\":true,\"x\":1}")))
        .isNull();
    assertThat(ConversionOutcome.repeatAnswer(Buffer.buffer("{\"status\":\"attributed\"}"))).isNull();
    assertThat(ConversionOutcome.repeatAnswer(Buffer.buffer(""))).isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "~", "{\"status\":\"attributed\"}", "{\"status\":\"no such status\",\"duplicate\":false,\"x\":1}",
      "{\"x\":1,\"status\":\"attributed\",\"duplicate\":false,\"y\":2}", "{\"status\":\"attributed\",\"duplicate\":true,\"x\":1}",
      "{\"status\":\"attributedx\",\"duplicate\":false,\"x\":1}", "{\"status\": \"attributed\",\"duplicate\":false,\"x\":1}"})
  void answersFromTheBytesOnlyWhatBeginsAsAFirstAnswerOfAKnownStatus(String remembered) {
    assertThat(ConversionOutcome.repeatOfFirstAnswer(Buffer.buffer(remembered))).isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "~", "[]", "{}", "{\"status\":\"no such status\"}", "{\"status\":\"attributed\"",
      "\"attributed\"", "{\"status\":\"attributed\",}"})
  void refusesWhatIsNotAnOutcome(String remembered) {
    assertThatThrownBy(() -> ConversionOutcome.decode(Buffer.buffer(remembered)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
