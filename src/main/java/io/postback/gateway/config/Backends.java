package io.postback.gateway.config;

/**
 * What the gateway actually connects to: the configured servers, or the embedded ones started for
 * the zero-configuration default, plus the admin token in force.
 */
public record Backends(String pgUrl, String redisUrl, String adminToken) {
}
