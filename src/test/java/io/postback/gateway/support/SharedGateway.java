package io.postback.gateway.support;

import io.postback.gateway.Gateway;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.Map;

/**
 * One real gateway for all tests of a class: {@code @RegisterExtension static final SharedGateway
 * gateway = new SharedGateway();} starts it before the first test and closes it after the last.
 */
public final class SharedGateway implements BeforeAllCallback, AfterAllCallback {
  private final Map<String, String> env;
  private RunningGateway running;

  public SharedGateway() {
    this(Map.of());
  }

  /** With configuration overrides, like GATEWAY_* environment variables. */
  public SharedGateway(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    running = RunningGateway.start(env);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    running.close();
  }

  public GatewayClient client() {
    return running.client();
  }

  public int port() {
    return running.port();
  }

  public Gateway gateway() {
    return running.gateway();
  }
}
