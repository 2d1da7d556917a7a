package io.postback.gateway.store;

import io.postback.gateway.config.PostgresUrl;
import org.flywaydb.core.Flyway;

/**
 * Creates and migrates the schema from {@code db/migration}. Flyway takes a Postgres advisory lock, so
 * two instances starting at once migrate one after the other. Blocking: call from a worker thread.
 */
public final class Migrations {
  private Migrations() {
  }

  public static int migrate(PostgresUrl url) {
    Flyway flyway = Flyway.configure()
        .dataSource(url.jdbcUrl(), url.user(), url.password())
        .locations("classpath:db/migration")
        .connectRetries(10)
        .load();
    return flyway.migrate().migrationsExecuted;
  }
}
