/**
 * Prints `resolveS3Endpoint()` as one JSON line (for
 * `profile_endpoint_test.ts`, which runs it with an environment of its own).
 *
 * @module
 */
import { resolveS3Endpoint } from "../../storage/s3_env.ts";

console.log(JSON.stringify(await resolveS3Endpoint()));
