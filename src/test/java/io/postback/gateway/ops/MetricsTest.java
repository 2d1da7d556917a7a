package io.postback.gateway.ops;

import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.RunningGateway;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** What ops dashboards scrape must be true: values, not just names. */
class MetricsTest {

  static double value(String scrape, String series) {
    Matcher m = Pattern.compile("^" + Pattern.quote(series) + " ([0-9.eE+-]+)$", Pattern.MULTILINE).matcher(scrape);
    return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
  }

  @Test
  void scrapeAfterTrafficCountsAcceptedDuplicateAndRejectedPostbacks() {
    try (RunningGateway gateway = RunningGateway.start()) {
      GatewayClient client = gateway.client();
      GatewayClient.TestSurface surface = client.createSurface();
      for (int i = 0; i < 7; i++) {
        client.postback(surface, "{\"externalId\":\"m-" + i + "\",\"eventType\":\"signup\"}");
      }
      for (int i = 0; i < 3; i++) {
        client.postback(surface, "{\"externalId\":\"m-" + i + "\",\"eventType\":\"signup\"}");
      }
      String ts = String.valueOf(System.currentTimeMillis());
      for (int i = 0; i < 2; i++) {
        client.raw("/v1/conversions", surface.id(), ts, "00".repeat(32), "application/json", "{}");
      }
      client.postback(surface, "{\"eventType\":\"signup\"}");
      // A failure the router's catch-all handler answers still counts under the route that failed.
      assertThat(client.admin("POST", "/admin/surfaces", new JsonObject().put("unknown", 1)).status()).isEqualTo(400);
      // The method is the client's word: an unusual one counts as OTHER, not as a series of its own.
      client.rawRequest("BREW /health/live HTTP/1.1\r\nhost: x\r\n".getBytes(StandardCharsets.US_ASCII), new byte[0]);

      String scrape = client.get("/metrics").body();

      assertThat(value(scrape, "gateway_postbacks_total{outcome=\"accepted\",reason=\"none\"}")).isEqualTo(7);
      assertThat(value(scrape, "gateway_postbacks_total{outcome=\"duplicate\",reason=\"none\"}")).isEqualTo(3);
      assertThat(value(scrape, "gateway_postbacks_total{outcome=\"rejected\",reason=\"bad_signature\"}")).isEqualTo(2);
      assertThat(value(scrape, "gateway_postbacks_total{outcome=\"rejected\",reason=\"invalid_field\"}")).isEqualTo(1);
      assertThat(value(scrape, "gateway_postbacks_total{outcome=\"rejected\",reason=\"stale_timestamp\"}")).isZero();
      assertThat(value(scrape, "vertx_http_server_requests_total{code=\"200\",method=\"POST\",route=\"/v1/conversions\"}"))
          .isEqualTo(10);
      assertThat(value(scrape, "vertx_http_server_requests_total{code=\"401\",method=\"POST\",route=\"/v1/conversions\"}"))
          .isEqualTo(2);
      assertThat(scrape).contains("vertx_http_server_response_time_seconds_bucket{code=\"200\",method=\"POST\",route=\"/v1/conversions\"");
      assertThat(value(scrape, "vertx_http_server_response_time_seconds_count{code=\"200\",method=\"POST\",route=\"/v1/conversions\"}"))
          .isEqualTo(10);
      assertThat(value(scrape, "vertx_http_server_requests_total{code=\"400\",method=\"POST\",route=\"/admin/surfaces\"}"))
          .isEqualTo(1);
      assertThat(scrape).contains("method=\"OTHER\"").doesNotContain("BREW");
      // The scrape's own connection is open.
      assertThat(value(scrape, "vertx_http_server_active_connections")).isGreaterThanOrEqualTo(1);
      assertThat(value(scrape, "gateway_dependency_up{dependency=\"postgres\"}")).isEqualTo(1);
      assertThat(scrape).contains("vertx_pool_in_use{pool_name=\"postgres-http-").contains("jvm_memory_used_bytes");
      assertThat(scrape).doesNotContain("route=\"/admin/surfaces/" + surface.id());
      // One after another, each accepted postback was a statement of its own; the duplicates wrote nothing.
      assertThat(value(scrape, "gateway_write_batch_rows_count{writer=\"conversions\"}")).isEqualTo(7);
      assertThat(value(scrape, "gateway_write_batch_rows_sum{writer=\"conversions\"}")).isEqualTo(7);
      assertThat(value(scrape, "gateway_write_batch_rows_bucket{writer=\"conversions\",le=\"1.0\"}")).isEqualTo(7);
      assertThat(value(scrape, "gateway_write_batch_rows_count{writer=\"clicks\"}")).isZero();
    }
  }
}
