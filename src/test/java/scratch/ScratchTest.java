package scratch;

import io.postback.gateway.support.GatewayClient;
import io.postback.gateway.support.RunningGateway;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class ScratchTest {
  @Test
  void load() {
    try (RunningGateway g = RunningGateway.start()) {
      GatewayClient c = g.client();
      System.out.println("R1 " + c.admin("POST", "/admin/surfaces", new JsonObject().put("id", "has space").put("name", "n")));
      System.out.println("R2 " + c.admin("POST", "/admin/surfaces", new JsonObject()));
      System.out.println("R3 " + c.admin("POST", "/admin/surfaces", new JsonObject().put("name", "n").put("timestampToleranceMs", "soon")));
      System.out.println("R4 " + c.admin("GET", "/admin/surfaces?limit=abc", null));
      System.out.println("R5 " + c.admin("GET", "/admin/surfaces?q=100%25", null));
      System.out.println("R6 " + c.admin("PATCH", "/admin/surfaces/x", new JsonObject().put("ipAllowlist", "x")));
      System.out.println("R7 " + c.admin("GET", "/admin/conversions", null));
      System.out.println("R8 " + c.get("/openapi.json").status());
      System.out.println("R9 " + c.get("/docs/api"));
      System.out.println("R10 " + c.get("/docs/api/swagger-ui/swagger-ui.css").status());
      System.out.println("R11 " + c.admin("POST", "/admin/surfaces/x/secrets", null));
    }
  }
}
