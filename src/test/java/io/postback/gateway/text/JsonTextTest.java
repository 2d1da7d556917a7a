package io.postback.gateway.text;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The streaming codec writes and reads the same JSON as JsonObject's default codec for the hot path's objects. */
class JsonTextTest {

  @Test
  void sameTextAsTheDefaultCodec() {
    Random random = new Random(5);
    String alphabet = "aZ09 \"\\/\n\t\u0001\u007f\u00e9\u20ac\ud83d\ude00<>&'";
    for (int i = 0; i < 20_000; i++) {
      StringBuilder text = new StringBuilder();
      for (int c = random.nextInt(40); c > 0; c--) {
        text.append(alphabet.charAt(random.nextInt(alphabet.length())));
      }
      JsonObject json = new JsonObject().put("form", "conversions").put("httpStatus", 200)
          .put("externalId", text.toString()).put("duplicate", random.nextBoolean())
          .put("commissionMinor", random.nextLong()).put("affiliateId", random.nextBoolean() ? null : "aff_1")
          .put("at", "2026-12-06T13:00:00.123456Z");
      String encoded = JsonText.encode(json);
      assertThat(encoded).isEqualTo(json.encode());
      assertThat(JsonText.parse(encoded)).isEqualTo(new JsonObject(encoded));
      assertThat(JsonText.parse(encoded).getLong("commissionMinor")).isEqualTo(json.getLong("commissionMinor"));
    }
  }
}
