package io.postback.gateway.ops;

import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.RunningGateway;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code managementPort}: /metrics alone on its own port, and no longer on the main (public) one. */
class ManagementPortTest {

  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void withAManagementPortMetricsAreServedThereAndNotOnTheMainPort() {
    int management = freePort();
    try (RunningGateway gateway = RunningGateway.start(Map.of("GATEWAY_MANAGEMENT_PORT", String.valueOf(management)))) {
      GatewayClient main = gateway.client();
      GatewayClient.TestSurface surface = main.createSurface();
      assertThat(main.postback(surface, "{\"externalId\":\"mp-1\",\"eventType\":\"signup\"}").status()).isEqualTo(200);

      GatewayClient.Reply onMain = main.get("/metrics");
      assertThat(onMain.status()).isEqualTo(404);
      assertThat(onMain.body()).doesNotContain("gateway_postbacks_total");

      GatewayClient.Reply onManagement = new GatewayClient(management).get("/metrics");
      assertThat(onManagement.status()).isEqualTo(200);
      assertThat(MetricsTest.value(onManagement.body(), "gateway_postbacks_total{outcome=\"accepted\",reason=\"none\"}"))
          .isEqualTo(1);
      // The management port serves nothing else.
      assertThat(new GatewayClient(management).get("/health/live").status()).isEqualTo(404);
      assertThat(main.get("/health/live").status()).isEqualTo(200);
    }
  }

  @Test
  void withoutAManagementPortMetricsStayOnTheMainPort() {
    try (RunningGateway gateway = RunningGateway.start()) {
      GatewayClient.Reply r = gateway.client().get("/metrics");
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).contains("gateway_postbacks_total");
    }
  }
}
