package io.postback.gateway.http;

import io.postback.gateway.text.StorableText;

/**
 * A request that cannot be served, with the status, the stable error code integrators match on, and a
 * human sentence. Thrown or failed anywhere in a handler chain; {@link ErrorResponder} renders it.
 * A message may quote what the client sent (a parser's complaint, an id): it is cleaned and clipped
 * here, so every error can be encoded as JSON and stored in the postback log.
 */
public final class ApiError extends RuntimeException {
  private static final int MAX_MESSAGE = 500;

  private final int status;
  private final String code;
  private final String field;
  private final Integer retryAfterSeconds;

  private ApiError(int status, String code, String message, String field, Integer retryAfterSeconds) {
    super(StorableText.clean(message, MAX_MESSAGE), null, false, false);
    this.status = status;
    this.code = code;
    this.field = field;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public static ApiError of(int status, String code, String message) {
    return new ApiError(status, code, message, null, null);
  }

  public static ApiError of(int status, String code, String message, String field) {
    return new ApiError(status, code, message, field, null);
  }

  /** 400 naming the offending field. */
  public static ApiError invalidField(String field, String message) {
    return new ApiError(400, "invalid_field", message, field, null);
  }

  public static ApiError retryable(int status, String code, String message, int retryAfterSeconds) {
    return new ApiError(status, code, message, null, retryAfterSeconds);
  }

  public static ApiError unavailable(String what) {
    return retryable(503, "dependency_unavailable", what + " is unavailable; nothing was recorded, retry later", 5);
  }

  public static ApiError notFound(String what) {
    return of(404, "not_found", what + " was not found");
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  public String field() {
    return field;
  }

  public Integer retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
