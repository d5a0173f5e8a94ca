/**
 * The S3 endpoint and region from the standard AWS variables, without
 * loading the AWS SDK (which reads the environment as soon as it is
 * imported): the CLI checks its permissions with this first.
 *
 * @module
 */

/** Where the S3 endpoint is, as read from the environment. */
export interface S3Endpoint {
  /** `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL`; undefined means AWS itself. */
  endpoint?: string;
  /** The region to sign for. */
  region: string;
}

/**
 * Read the endpoint and region from the standard AWS variables.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { s3EndpointFromEnv } from "./s3_env.ts";
 * const { region } = s3EndpointFromEnv();
 * assert(region.length > 0);
 * ```
 */
export function s3EndpointFromEnv(): S3Endpoint {
  const endpoint = env("AWS_ENDPOINT_URL_S3") ?? env("AWS_ENDPOINT_URL");
  const region = env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? "us-east-1";
  return { endpoint, region };
}

function env(name: string): string | undefined {
  const v = Deno.env.get(name);
  return v === undefined || v === "" ? undefined : v;
}
