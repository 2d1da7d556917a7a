package io.postback.gateway.conversion;

/**
 * A conversion that is well-formed but contradicts what is stored (e.g. a refund of a refund, or in
 * another currency than its original). Raised below the HTTP layer, which answers it as a 400 naming
 * the field.
 */
public final class InvalidConversion extends RuntimeException {
  private final String field;

  public InvalidConversion(String field, String message) {
    // No stack trace: an expected answer to the sender, not a fault of ours.
    super(message, null, false, false);
    this.field = field;
  }

  public String field() {
    return field;
  }
}
