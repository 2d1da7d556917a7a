package io.postback.gateway.config;

import io.vertx.pgclient.PgConnectOptions;

/** One Postgres URL ({@code postgresql://user[:pass]@host:port/db}) seen by both the reactive and the JDBC client. */
public record PostgresUrl(String url) {

  public PgConnectOptions connectOptions() {
    return PgConnectOptions.fromUri(url.replaceFirst("^postgres://", "postgresql://"));
  }

  /** The JDBC form, used only by Flyway at start. */
  public String jdbcUrl() {
    PgConnectOptions o = connectOptions();
    return "jdbc:postgresql://" + o.getHost() + ":" + o.getPort() + "/" + o.getDatabase();
  }

  public String user() {
    return connectOptions().getUser();
  }

  public String password() {
    String p = connectOptions().getPassword();
    return p == null ? "" : p;
  }
}
