package io.postback.gateway.ops;

import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.RunningGateway;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every metric the alert rules and the Grafana dashboard reference is really exported by a running
 * gateway: a renamed meter must break this test, not a dashboard in production.
 */
class DashboardMetricsTest {
  private static final Pattern METRIC = Pattern.compile("\\b((?:gateway|vertx|jvm|process)_[a-z0-9_]+)");

  static Set<String> referencedIn(String... files) throws Exception {
    Set<String> names = new TreeSet<>();
    for (String file : files) {
      Matcher m = METRIC.matcher(Files.readString(Path.of(file)));
      while (m.find()) {
        names.add(m.group(1));
      }
    }
    return names;
  }

  @Test
  void everyMetricTheRulesAndDashboardUseIsExported() throws Exception {
    Set<String> referenced = referencedIn("config/prometheus/alerts.yml", "config/prometheus/alerts_test.yml",
        "config/grafana/postback-gateway-dashboard.json");
    assertThat(referenced).contains("gateway_postbacks_total", "gateway_delivery_queue_depth",
        "vertx_http_server_requests_total");

    try (RunningGateway gateway = RunningGateway.start()) {
      GatewayClient client = gateway.client();
      GatewayClient.TestSurface surface = client.createSurface();
      client.postback(surface, "{\"externalId\":\"dash-1\",\"eventType\":\"signup\"}");
      String scrape = client.get("/metrics").body();

      Set<String> exported = new TreeSet<>();
      for (String line : scrape.split("\n")) {
        if (!line.startsWith("#") && !line.isBlank()) {
          exported.add(line.replaceAll("[{ ].*", ""));
        }
      }
      assertThat(exported).containsAll(referenced);
    }
  }
}
