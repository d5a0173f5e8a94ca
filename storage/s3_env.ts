/**
 * The S3 endpoint and region: from the standard AWS variables alone
 * ({@linkcode s3EndpointFromEnv}, without loading the AWS SDK, which reads
 * the environment as soon as it is imported), or as the SDK finds them,
 * the shared config file's profile included ({@linkcode resolveS3Endpoint}):
 * the CLI checks its permissions and names its state files with that.
 *
 * A variable that is not valid UTF-8 throws an `EnvVariableError` naming
 * it: the SDK reads such a variable as unset, so a bad
 * `AWS_ENDPOINT_URL_S3` sent everything to AWS itself (a probe).
 *
 * @module
 */
import { readEnvVariable } from "../ledger/paths.ts";

/**
 * The `AWS_*` variables the SDK reads for S3 (endpoint, region, profile,
 * its files, credentials), checked by {@linkcode resolveS3Endpoint} before
 * it reads them: one it cannot read as text it takes as unset.
 */
const SDK_VARIABLES = [
  "AWS_ENDPOINT_URL_S3",
  "AWS_ENDPOINT_URL",
  "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_PROFILE",
  "AWS_CONFIG_FILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  // The SDK's other credential sources (a review: a container token that was not UTF-8 was
  // printed whole in Deno's message, exit 1).
  "AWS_CONTAINER_AUTHORIZATION_TOKEN",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_ROLE_ARN",
  "AWS_ROLE_SESSION_NAME",
  "AWS_EC2_METADATA_DISABLED",
  "AWS_EC2_METADATA_SERVICE_ENDPOINT",
  "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
  // The SDK finds ~/.aws by the home folder (a review: a HOME that is not UTF-8 failed with
  // Deno's message, naming no variable).
  "HOME",
] as const;

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

/**
 * The endpoint and region as the AWS SDK resolves them for S3: the
 * variables first (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, `AWS_REGION`),
 * then the profile of the shared config files (`AWS_PROFILE`, else
 * `default`; `AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`): its
 * `services` section's `s3 = endpoint_url`, its `endpoint_url`, its
 * `region`; none when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` or the
 * profile's `ignore_configured_endpoint_urls` says so (the SDK's rules,
 * read with its own loader, `@smithy/core/config`). Then
 * `AWS_DEFAULT_REGION`, then `us-east-1`. A file it may not read counts as
 * absent, as it does for the SDK. A variable of those (or of the
 * credentials) that is not valid UTF-8 throws an `EnvVariableError`.
 *
 * A probe: with the endpoint in a profile, the SDK sent every request
 * there while ledger took the bucket for one at AWS: two profiles naming
 * two servers shared one state file (the second server got nothing, and
 * the pass said every byte was in its bucket), and messages and the
 * `--allow-net` hint named AWS.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { resolveS3Endpoint } from "./s3_env.ts";
 * // With AWS_PROFILE=lab and, in ~/.aws/config, `[profile lab]` with
 * // `endpoint_url = http://127.0.0.1:9000`: that endpoint (the tests run it).
 * const { endpoint, region } = await resolveS3Endpoint();
 * assert(region.length > 0 && (endpoint === undefined || URL.canParse(endpoint)));
 * ```
 */
export async function resolveS3Endpoint(): Promise<S3Endpoint> {
  checkSdkVariables();
  const { booleanSelector, loadConfig, SelectorType } = await import("@smithy/core/config");
  // ignoreCache: a long-lived process (the daemon, a test) reads the files as they are now.
  const files = { ignoreCache: true };
  const ignore = await loadConfig<boolean>({
    environmentVariableSelector: (vars) =>
      booleanSelector(vars, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", SelectorType.ENV),
    configFileSelector: (profile) =>
      booleanSelector(profile, "ignore_configured_endpoint_urls", SelectorType.CONFIG),
    default: false,
  }, files)();
  const endpoint = ignore ? undefined : await loadConfig<string | undefined>({
    environmentVariableSelector: (vars) =>
      nonEmpty(vars.AWS_ENDPOINT_URL_S3) ?? nonEmpty(vars.AWS_ENDPOINT_URL),
    configFileSelector: (profile, config) => {
      if (profile.services !== undefined) {
        const section = config?.[`services.${profile.services}`];
        const url = nonEmpty(section?.["s3.endpoint_url"]);
        if (url !== undefined) return url;
      }
      return nonEmpty(profile.endpoint_url);
    },
    default: undefined,
  }, files)();
  const region = await loadConfig<string>({
    environmentVariableSelector: (vars) => nonEmpty(vars.AWS_REGION),
    configFileSelector: (profile) => nonEmpty(profile.region),
    default: env("AWS_DEFAULT_REGION") ?? "us-east-1",
  }, { ...files, preferredFile: "credentials" })();
  return { endpoint, region };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === "" ? undefined : v;
}

function env(name: string): string | undefined {
  return nonEmpty(readEnvVariable(name));
}

/** Throw an `EnvVariableError` for the first of {@linkcode SDK_VARIABLES} not valid UTF-8. */
function checkSdkVariables(): void {
  for (const name of SDK_VARIABLES) {
    try {
      readEnvVariable(name);
    } catch (err) {
      // Not ours to ask for: the SDK meets the missing permission as it always did.
      if (!(err instanceof Deno.errors.NotCapable)) throw err;
    }
  }
}
