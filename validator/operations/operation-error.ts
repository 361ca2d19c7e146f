/** A refused help-desk or support operation; the HTTP layer maps `kind` to a status code. */
export class OperationError extends Error {
  constructor(
    readonly kind: "not-found" | "conflict" | "invalid" | "forbidden",
    message: string,
  ) {
    super(message);
  }
}
