import { z } from "zod";

/** Every error the API returns has this shape. */
export const ErrorResponse = z.object({
  error_code: z.string(),
  message: z.string(),
  details: z.unknown(),
});
export type ErrorResponse = z.infer<typeof ErrorResponse>;
