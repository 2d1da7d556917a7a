# Build stage: the same command as the README, in a Maven image.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src ./src
RUN mvn -B -q package -DskipTests

# Run stage: a JRE and the one jar. Postgres refuses to run as root, and so do we.
FROM eclipse-temurin:17-jre
RUN groupadd --system gateway && useradd --system --gid gateway --uid 10001 --home-dir /app gateway \
    && mkdir -p /app/data && chown -R gateway:gateway /app
WORKDIR /app
COPY --from=build /src/target/postback-gateway.jar /app/postback-gateway.jar
COPY config /app/config
USER gateway
EXPOSE 8080
# Without GATEWAY_PG_URL / GATEWAY_REDIS_URL the gateway starts embedded servers under /app/data:
# mount a volume there, or (in production) point it at real servers.
VOLUME ["/app/data"]
ENV JAVA_OPTS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS -jar /app/postback-gateway.jar"]
