package io.postback.gateway.config;

import io.vertx.pgclient.PgConnectOptions;

/** One Postgres URL ({@code postgresql://user[:pass]@host:port/db}) seen by both the reactive and the JDBC client. */
public record PostgresUrl(String url) {
  /**
   * The longest statement text kept prepared. The client's default, 2,048 characters, left out the hottest
   * statement of all, the conversion insert with its events and their fan-out (about 7,400 characters). A
   * statement left out is parsed, analysed and planned by Postgres again on every execution: for that one,
   * about half of Postgres' CPU per postback (issue 10, perf profile in loadtest/RESULTS.md).
   */
  static final int PREPARED_SQL_LIMIT = 64 * 1024;

  /** The connection options of every pool: statements are prepared once per connection and then reused. */
  public PgConnectOptions connectOptions() {
    return PgConnectOptions.fromUri(url.replaceFirst("^postgres://", "postgresql://"))
        .setCachePreparedStatements(true)
        .setPreparedStatementCacheSqlLimit(PREPARED_SQL_LIMIT);
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
