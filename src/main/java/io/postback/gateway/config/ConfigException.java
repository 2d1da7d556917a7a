package io.postback.gateway.config;

/** A configuration value that stops the start; the message names the offending key. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }
}
