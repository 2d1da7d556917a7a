# Build stage: the same command as the README, in a Maven image.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY pom.xml .
RUN mvn -B -q dependency:go-offline
COPY src ./src
RUN mvn -B -q package -DskipTests

# Run stage: a JRE and the one jar. Postgres refuses to run as root, and so do we.
FROM eclipse-temurin:17-jre
# A fixed uid AND gid (10001), and USER given as numbers: Kubernetes can only enforce runAsNonRoot on a
# numeric user, and deploy/kubernetes/deployment.yaml runs the pod as 10001:10001.
RUN groupadd --system --gid 10001 gateway \
    && useradd --system --gid gateway --uid 10001 --home-dir /app --no-create-home gateway \
    && mkdir -p /app/data && chown gateway:gateway /app/data
WORKDIR /app
# The jar and the configuration stay root-owned: the gateway only reads them.
COPY --from=build /src/target/postback-gateway.jar /app/postback-gateway.jar
COPY config /app/config
USER 10001:10001
EXPOSE 8080
# Without GATEWAY_PG_URL / GATEWAY_REDIS_URL the gateway starts embedded servers under /app/data:
# mount a volume there, or (in production) point it at real servers. Besides that it writes only
# temporary files under /tmp (the JVM, Netty's native library, Vert.x's file cache), so it runs on a
# read-only root file system with a writable /tmp.
VOLUME ["/app/data"]
ENV JAVA_OPTS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError"
# exec: java is PID 1 and receives SIGTERM itself (graceful stop, see README "Operating it").
ENTRYPOINT ["sh", "-c", "exec java $JAVA_OPTS -jar /app/postback-gateway.jar"]
