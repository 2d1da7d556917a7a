package io.postback.gateway.ingest;

import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.GatewayClient.Reply;
import io.postback.gateway.support.GatewayClient.TestSurface;
import io.postback.gateway.support.SharedGateway;
import io.postback.gateway.support.TestBackends;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One bad postback never fails the others that share its micro-batch: in a concurrent burst of good
 * and bad signed postbacks, every good one is committed and answered 200, every bad one is answered
 * 400 naming its field, and none is a 500.
 */
class NeighbourIsolationTest {
  @RegisterExtension
  static final SharedGateway gateway = new SharedGateway();
  private static final String[] BAD_METADATA = {
      "{\"a\":\"\\ud800\"}",          // a lone high surrogate, as a JSON escape
      "{\"\\udc00\":1}",             // a lone low surrogate in a key
      "{\"a\":\"x\\ud800\\ud800y\"}", // two high surrogates
      "{\"n\":1e1000000}",           // a number out of Postgres' numeric range
  };
  private GatewayClient client;
  private TestSurface surface;

  @BeforeEach
  void newSurface() {
    client = gateway.client();
    surface = client.createSurface();
  }

  private static String sale(String externalId, String metadata) {
    return "{\"externalId\":\"" + externalId + "\",\"eventType\":\"sale\",\"grossMinor\":1000,\"currency\":\"USD\""
        + (metadata == null ? "" : ",\"metadata\":" + metadata) + "}";
  }

  private long rows(String externalId) {
    return TestBackends.queryLong("SELECT count(*) FROM conversions WHERE surface_id = ? AND external_id = ?",
        surface.id(), externalId);
  }

  @Test
  void aConcurrentBurstOfGoodAndBadPostbacksAnswersEachAlone() {
    List<String> ids = new ArrayList<>();
    List<CompletableFuture<Reply>> replies = new ArrayList<>();
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < 30; i++) {
        String id = "r" + round + "-" + i;
        boolean bad = i % 3 == 0;
        ids.add(id);
        replies.add(client.postbackAsync(surface, sale(id, bad ? BAD_METADATA[i % BAD_METADATA.length]
            : "{\"campaign\":\"spring \\ud83d\\ude00\"}")));
      }
    }
    for (int i = 0; i < ids.size(); i++) {
      Reply r = replies.get(i).join();
      String id = ids.get(i);
      if (Integer.parseInt(id.substring(id.indexOf('-') + 1)) % 3 == 0) {
        assertThat(r.status()).as(id + ": " + r.body()).isEqualTo(400);
        assertThat(r.error()).isEqualTo("invalid_field");
        assertThat(r.json().getString("field")).isEqualTo("metadata");
        assertThat(rows(id)).isZero();
      } else {
        assertThat(r.status()).as(id + ": " + r.body()).isEqualTo(200);
        assertThat(r.json().getBoolean("duplicate")).isFalse();
        assertThat(rows(id)).as(id).isEqualTo(1);
      }
    }
  }

  @Test
  void aBatchWithBadItemsCommitsTheGoodOnesAndNamesTheBadField() {
    JsonArray items = new JsonArray();
    StringBuilder body = new StringBuilder("[");
    for (int i = 0; i < 40; i++) {
      if (i > 0) {
        body.append(',');
      }
      body.append(sale("b-" + i, i % 5 == 0 ? BAD_METADATA[i % BAD_METADATA.length] : null));
    }
    body.append(']');
    Reply r = client.signedPost("/v1/conversions/batch", surface, "application/json", body.toString());
    assertThat(r.status()).as(r.body()).isEqualTo(200);
    items.addAll(r.json().getJsonArray("items"));
    assertThat(r.json().getInteger("accepted")).isEqualTo(32);
    assertThat(r.json().getInteger("rejected")).isEqualTo(8);
    for (int i = 0; i < 40; i++) {
      JsonObject item = items.getJsonObject(i);
      if (i % 5 == 0) {
        assertThat(item.getString("error")).as(item.encode()).isEqualTo("invalid_field");
        assertThat(item.getString("field")).isEqualTo("metadata");
        assertThat(rows("b-" + i)).isZero();
      } else {
        assertThat(item.getString("conversionId")).as(item.encode()).isNotNull();
        assertThat(rows("b-" + i)).isEqualTo(1);
      }
    }
  }
}
