package io.postback.gateway.events;

import io.postback.gateway.events.Event.CommissionCreated;
import io.postback.gateway.events.Event.ConversionCreated;
import io.postback.gateway.events.Event.ConversionRejected;
import io.postback.gateway.events.Event.FraudDetected;
import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What integrators receive is what {@link Event} defines, whichever code wrote the event: the
 * conversion hot path builds its events in SQL (ConversionWriter), the other paths in Java.
 */
class EventPayloadTest {
  /** Ids.timeOrdered's form, which SQL-made ids share: prefix, then 26 Crockford base-32 characters. */
  private static final String EVENT_ID = "evt_[0-9a-hjkmnp-tv-z]{26}";

  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();
  private GatewayClient client;
  private TestSurface surface;
  private String affiliate;

  @BeforeEach
  void newProgram() {
    client = gateway.client();
    surface = client.createSurface();
    affiliate = client.createAffiliate("active");
    client.createRule(surface, "sale", 500L, null, null);
    // Every conversion after a click counts as too fast: the hot path then writes all its event types.
    client.admin("PATCH", "/admin/surfaces/" + surface.id(), new JsonObject().put("minClickToConversionMs", 60_000));
  }

  @Test
  void eventsBuiltInSqlCarryExactlyTheDefinedFields() {
    String clickId = client.click(client.createLink(surface, affiliate, "https://shop.example/", null));
    String sale = client.postback(surface, "{\"externalId\":\"o-1\",\"eventType\":\"sale\",\"grossMinor\":4999,"
        + "\"currency\":\"USD\",\"clickId\":\"" + clickId + "\",\"metadata\":{\"order\":7}}").json().getString("conversionId");
    // A status arrives on the classic GET postback; one that arrives rejected has its event in the SQL too.
    String token = client.admin("POST", "/admin/surfaces/" + surface.id() + "/postback-token", null).json()
        .getString("postbackToken");
    String rejected = client.get("/v1/postback?surface=" + surface.id() + "&token=" + token
        + "&txid=o-2&amount=100&currency=USD&event=sale&status=rejected").json().getString("conversionId");

    assertThat(fieldsOf(ConversionCreated.TYPE, sale))
        .containsExactlyInAnyOrderElementsOf(EventFields.of(ConversionCreated.class));
    assertThat(fieldsOf(CommissionCreated.TYPE, sale))
        .containsExactlyInAnyOrderElementsOf(EventFields.of(CommissionCreated.class));
    assertThat(fieldsOf(FraudDetected.TYPE, sale)).containsExactlyInAnyOrderElementsOf(EventFields.of(FraudDetected.class));
    assertThat(fieldsOf(ConversionRejected.TYPE, rejected))
        .containsExactlyInAnyOrderElementsOf(EventFields.of(ConversionRejected.class));
  }

  /** conversion.created, built in the hot path's SQL, carries the conversion's own value in each field. */
  @Test
  void conversionCreatedCarriesTheConversionsValues() {
    String clickId = client.click(client.createLink(surface, affiliate, "https://shop.example/", null));
    // After the click (or nothing is credited), with a fraction.
    String occurredAt = Instant.now().truncatedTo(ChronoUnit.SECONDS).plusSeconds(1).plusMillis(250).toString();
    String sale = client.postback(surface, "{\"externalId\":\"o-5\",\"eventType\":\"sale\",\"grossMinor\":4999,"
        + "\"currency\":\"USD\",\"clickId\":\"" + clickId + "\",\"customerId\":\"cust \\\"7\\\"\","
        + "\"occurredAt\":\"" + occurredAt + "\",\"metadata\":{\"order\":7,\"tags\":[\"a\",null],\"n\":1.5}}")
        .json().getString("conversionId");
    List<String> payloads = column("SELECT data::text FROM events WHERE type = ? AND data->>'conversionId' = ?",
        ConversionCreated.TYPE, sale);
    assertThat(payloads).hasSize(1);
    JsonObject data = new JsonObject(payloads.get(0));
    assertThat(data.getString("surfaceId")).isEqualTo(surface.id());
    assertThat(data.getString("externalId")).isEqualTo("o-5");
    assertThat(data.getString("eventType")).isEqualTo("sale");
    assertThat(data.getLong("grossMinor")).isEqualTo(4999L);
    assertThat(data.getString("currency")).isEqualTo("USD");
    assertThat(data.getString("occurredAt")).isEqualTo(occurredAt).endsWith(".250Z");
    assertThat(data.getString("clickId")).isEqualTo(clickId);
    assertThat(data.getString("promoCode")).isNull();
    assertThat(data.getString("refundOf")).isNull();
    assertThat(data.getString("status")).isEqualTo("attributed");
    assertThat(data.getString("affiliateId")).isEqualTo(affiliate);
    assertThat(data.getLong("commissionMinor")).isEqualTo(500L);
    assertThat(data.getString("commissionCurrency")).isEqualTo("USD");
    assertThat(data.getString("approval")).isEqualTo("approved");
    assertThat(data.getString("customerId")).isEqualTo("cust \"7\"");
    assertThat(data.getJsonObject("metadata"))
        .isEqualTo(new JsonObject("{\"order\":7,\"tags\":[\"a\",null],\"n\":1.5}"));
    assertThat(data.containsKey("promoCode")).as("null fields are present").isTrue();
  }

  @Test
  void conversionCreatedHasTheSameFieldsWhetherASaleOrARefundCausedIt() {
    String sale = client.postback(surface, "{\"externalId\":\"o-3\",\"eventType\":\"sale\",\"grossMinor\":1000,"
        + "\"currency\":\"USD\"}").json().getString("conversionId");
    String refund = client.postback(surface, "{\"externalId\":\"r-3\",\"eventType\":\"refund\",\"refundOf\":\"o-3\","
        + "\"grossMinor\":1000,\"currency\":\"USD\"}").json().getString("conversionId");

    List<String> fromSql = fieldsOf(ConversionCreated.TYPE, sale);
    assertThat(fieldsOf(ConversionCreated.TYPE, refund)).containsExactlyInAnyOrderElementsOf(fromSql)
        .containsExactlyInAnyOrderElementsOf(EventFields.of(ConversionCreated.class));
  }

  @Test
  void eventIdsHaveOneFormWhetherSqlOrJavaMadeThem() {
    String clickId = client.click(client.createLink(surface, affiliate, "https://shop.example/", null));
    String sale = client.postback(surface, "{\"externalId\":\"o-4\",\"eventType\":\"sale\",\"grossMinor\":1000,"
        + "\"currency\":\"USD\",\"clickId\":\"" + clickId + "\"}").json().getString("conversionId");
    client.postback(surface, "{\"externalId\":\"r-4\",\"eventType\":\"refund\",\"refundOf\":\"o-4\",\"currency\":\"USD\"}");

    List<String> ids = column("SELECT id FROM events WHERE surface_id = ?", surface.id());
    assertThat(ids).hasSizeGreaterThanOrEqualTo(3).allMatch(id -> id.matches(EVENT_ID));
    assertThat(column("SELECT id FROM commissions WHERE conversion_id = ?", sale))
        .isNotEmpty().allMatch(id -> id.matches("com_[0-9a-hjkmnp-tv-z]{26}"));
  }

  /**
   * A timestamp reads the same whichever code wrote the event: the sale's conversion.created is built in
   * SQL, the refund's in Java, and both say occurredAt as Instant#toString does (UTC, Z, the fraction in
   * groups of three, at Postgres' microsecond precision).
   */
  @Test
  void timestampsHaveOneFormWhetherSqlOrJavaWroteTheEvent() {
    Instant base = Instant.now().minus(Duration.ofHours(1)).truncatedTo(ChronoUnit.SECONDS);
    List<String> sent = List.of(base.toString(), base.plusMillis(120).toString(),
        base.plusNanos(123_456_789).atOffset(ZoneOffset.ofHours(2)).toString());
    for (int i = 0; i < sent.size(); i++) {
      String occurredAt = sent.get(i);
      String expected = OffsetDateTime.parse(occurredAt).toInstant().truncatedTo(ChronoUnit.MICROS).toString();
      String sale = client.postback(surface, "{\"externalId\":\"t-" + i + "\",\"eventType\":\"sale\",\"grossMinor\":100,"
          + "\"currency\":\"USD\",\"occurredAt\":\"" + occurredAt + "\"}").json().getString("conversionId");
      String refund = client.postback(surface, "{\"externalId\":\"tr-" + i + "\",\"eventType\":\"refund\",\"refundOf\":\"t-"
          + i + "\",\"currency\":\"USD\",\"occurredAt\":\"" + occurredAt + "\"}").json().getString("conversionId");
      for (String conversionId : List.of(sale, refund)) {
        List<String> payload = column("SELECT data::text FROM events WHERE type = ? AND data->>'conversionId' = ?",
            ConversionCreated.TYPE, conversionId);
        assertThat(payload).hasSize(1);
        assertThat(new JsonObject(payload.get(0)).getString("occurredAt")).as(occurredAt).isEqualTo(expected);
      }
    }
  }

  /** The payload field names (jsonb keeps its own key order) of the one event of a type about a conversion. */
  private static List<String> fieldsOf(String type, String conversionId) {
    List<String> payloads = column("SELECT data::text FROM events WHERE type = ? AND data->>'conversionId' = ?",
        type, conversionId);
    assertThat(payloads).as(type).hasSize(1);
    return new ArrayList<>(new JsonObject(payloads.get(0)).fieldNames());
  }

  private static List<String> column(String sql, String... args) {
    try (Connection c = TestBackends.jdbc(); PreparedStatement st = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        st.setString(i + 1, args[i]);
      }
      List<String> out = new ArrayList<>();
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
      return out;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
