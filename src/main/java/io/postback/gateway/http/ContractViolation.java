package io.postback.gateway.http;

import io.vertx.json.schema.OutputUnit;
import io.vertx.openapi.validation.SchemaValidationException;
import io.vertx.openapi.validation.ValidatorErrorType;
import io.vertx.openapi.validation.ValidatorException;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A request the OpenAPI contract refused, as the error integrators already match on: {@code 400
 * invalid_field} naming the field (a body property or a parameter), {@code 400 malformed_json} for a body
 * that is not JSON, {@code 415} for a body of another media type.
 */
public final class ContractViolation {
  // vertx-openapi names a parameter only in its message ("... query parameter limit ...").
  private static final Pattern PARAMETER = Pattern.compile("(?:query|path|header|cookie) parameter ([^ .]+)");
  private static final Pattern REQUIRED = Pattern.compile("required property \"([^\"]+)\"");
  private static final Pattern PROPERTY = Pattern.compile("^Property \"([^\"]+)\" does not match");

  private ContractViolation() {
  }

  public static ApiError of(ValidatorException e) {
    String parameter = group(PARAMETER, e.getMessage());
    if (e instanceof SchemaValidationException schema && parameter == null) {
      return body(schema.getOutputUnit());
    }
    if (parameter != null) {
      return ApiError.invalidField(parameter, parameter
          + (e.type() == ValidatorErrorType.MISSING_REQUIRED_PARAMETER ? " is required" : " is invalid: " + reason(e)));
    }
    if (e.type() == ValidatorErrorType.UNSUPPORTED_VALUE_FORMAT) {
      return ApiError.of(415, "unsupported_media_type", "Send content-type: application/json");
    }
    if (e.type() == ValidatorErrorType.ILLEGAL_VALUE || e.type() == ValidatorErrorType.MISSING_REQUIRED_PARAMETER) {
      return ApiError.of(400, "malformed_json", "The body must be a JSON object");
    }
    return ApiError.of(400, "bad_request", e.getMessage());
  }

  /** The body property at fault: where the deepest error lies, or the required property that is missing. */
  private static ApiError body(OutputUnit unit) {
    List<OutputUnit> errors = new ArrayList<>();
    flatten(unit, errors);
    OutputUnit deepest = errors.stream()
        .max(Comparator.comparingInt(error -> location(error).length()))
        .orElse(unit);
    String field = topLevel(location(deepest));
    if (field == null) {
      field = errors.stream().map(error -> group(PROPERTY, error.getError())).filter(Objects::nonNull).findFirst().orElse(null);
    }
    if (field != null) {
      return ApiError.invalidField(field, field + " is invalid: " + deepest.getError());
    }
    for (OutputUnit error : errors) {
      String required = group(REQUIRED, error.getError());
      if (required != null) {
        return ApiError.invalidField(required, required + " is required");
      }
    }
    return ApiError.of(400, "malformed_json", "The body must be a JSON object");
  }

  /** The error's instance location as a JSON pointer ("/ipAllowlist/0"; the validator writes "#/ipAllowlist/0"). */
  private static String location(OutputUnit error) {
    String location = error.getInstanceLocation() == null ? "" : error.getInstanceLocation();
    return location.startsWith("#") ? location.substring(1) : location;
  }

  private static void flatten(OutputUnit unit, List<OutputUnit> into) {
    if (unit.getErrors() == null || unit.getErrors().isEmpty()) {
      into.add(unit);
      return;
    }
    unit.getErrors().forEach(child -> flatten(child, into));
  }

  /** The first segment of a JSON pointer ("/ipAllowlist/0" is ipAllowlist), or null for the whole body. */
  private static String topLevel(String pointer) {
    if (pointer == null || pointer.length() < 2) {
      return null;
    }
    String first = pointer.substring(1);
    int slash = first.indexOf('/');
    return (slash < 0 ? first : first.substring(0, slash)).replace("~1", "/").replace("~0", "~");
  }

  private static String reason(ValidatorException e) {
    int reason = e.getMessage().indexOf("Reason: ");
    return reason < 0 ? e.getMessage() : e.getMessage().substring(reason + 8);
  }

  private static String group(Pattern pattern, String text) {
    if (text == null) {
      return null;
    }
    Matcher m = pattern.matcher(text);
    return m.find() ? m.group(1) : null;
  }
}
