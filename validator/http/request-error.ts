import type { z } from "zod";

export interface FieldError {
  field: string;
  message: string;
}

/** A request refused before any state was touched: 400 with field-level errors. */
export class RequestError extends Error {
  constructor(
    message: string,
    readonly fields: FieldError[] = [],
  ) {
    super(message);
  }
}

export function parseRequest<Schema extends z.ZodType>(schema: Schema, value: unknown, where: string): z.output<Schema> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.flatMap((issue): FieldError[] => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ field: [...issue.path, key].join("."), message: "unknown field" }));
    }
    return [{ field: issue.path.join(".") || where, message: issue.message }];
  });
  throw new RequestError(`invalid ${where}`, fields);
}
