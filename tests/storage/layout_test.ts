/**
 * The bucket layout and `s3://` URLs, without a server: chunk keys round-trip,
 * sort by offset, and stay a Hive-style `day=` log; bad URLs are refused with
 * the reason.
 */
import assert from "node:assert/strict";
import {
  chunkKey,
  fingerprintOf,
  locationId,
  parseChunkKey,
  remotePartFile,
} from "../../storage/_layout.ts";
import { BucketUrlError, formatBucketUrl, parseBucketUrl } from "../../storage/object_store.ts";

Deno.test("bucket layout", async (t) => {
  const part = {
    day: "2026-01-23",
    stem: "part-01a2.b-000001",
    fingerprint: fingerprintOf(new TextEncoder().encode('{"event_id":"x"}')),
  };

  await t.step("a chunk key round-trips and names a Hive day folder", () => {
    const key = chunkKey("team-a/", part, 1234);
    assert.equal(
      key,
      `team-a/events/day=2026-01-23/part-01a2.b-000001.${part.fingerprint}.0000000000001234.jsonl`,
    );
    assert.deepEqual(parseChunkKey("team-a/", key, 10), {
      ...part,
      startByte: 1234,
      sizeBytes: 10,
      key,
    });
    assert.equal(
      remotePartFile(part),
      `day=2026-01-23/part-01a2.b-000001.${part.fingerprint}.jsonl`,
    );
  });

  await t.step("keys of one part sort by offset", () => {
    const offsets = [0, 9, 10, 99, 100, 1_000_000, 2 ** 40];
    const keys = offsets.map((o) => chunkKey("", part, o));
    assert.deepEqual([...keys].sort(), keys);
  });

  await t.step("other keys are not chunks", () => {
    for (const key of ["p/events/day=2026-01-23/part-1.jsonl", "p/other/x.jsonl", "q/events/x"]) {
      assert.equal(parseChunkKey("p/", key, 1), null, key);
    }
    assert.throws(() => chunkKey("", part, -1), RangeError);
  });

  await t.step("the fingerprint is 12 hex digits of the first line", () => {
    assert.match(part.fingerprint, /^[0-9a-f]{12}$/);
    assert.notEqual(fingerprintOf(new TextEncoder().encode("a")), part.fingerprint);
  });
});

Deno.test("one endpoint however written: one state file and one mirror name", () => {
  // An audit: `http://127.0.0.1:9000/` named a second mirror, fetched whole, beside that of
  // `http://127.0.0.1:9000` (whose name is unchanged: mirrors made before keep theirs).
  const id = locationId("http://127.0.0.1:9000", "logs", "team-a/");
  for (
    const same of ["http://127.0.0.1:9000/", "HTTP://127.0.0.1:9000//", "http://127.0.0.1:9000"]
  ) {
    assert.equal(locationId(same, "logs", "team-a/"), id, same);
  }
  assert.equal(
    locationId("https://S3.example.com:443/", "b", ""),
    locationId("https://s3.example.com", "b", ""),
  );
  assert.equal(locationId("http://minio/s3/", "b", ""), locationId("http://minio/s3", "b", ""));
  for (
    const other of ["http://127.0.0.1:9001", "https://127.0.0.1:9000", "http://127.0.0.1:9000/x"]
  ) {
    assert.notEqual(locationId(other, "logs", "team-a/"), id, other);
  }
  assert.notEqual(locationId(undefined, "logs", "team-a/"), id);
  assert.notEqual(locationId("http://127.0.0.1:9000", "logs", "team-b/"), id);
});

Deno.test("s3:// URLs", async (t) => {
  await t.step("bucket and a normalized prefix", () => {
    assert.deepEqual(parseBucketUrl("s3://ledger-logs"), { bucket: "ledger-logs", prefix: "" });
    assert.deepEqual(parseBucketUrl("s3://ledger-logs/"), { bucket: "ledger-logs", prefix: "" });
    assert.deepEqual(parseBucketUrl("s3://ledger-logs//a/b/"), {
      bucket: "ledger-logs",
      prefix: "a/b/",
    });
    assert.equal(formatBucketUrl(parseBucketUrl("s3://b0b/x")), "s3://b0b/x/");
  });

  await t.step("anything else is refused with the reason", () => {
    const cases: [string, RegExp][] = [
      ["http://bucket/x", /must start with s3:\/\//],
      ["/data/ledger", /must start with s3:\/\//],
      ["s3://", /bucket name "" is not valid/],
      ["s3://Upper/x", /bucket name "Upper"/],
      ["s3://ok-bucket/a/../b", /no \. or \.\./],
      ["s3://ok-bucket/p?x=1", /no \? or # in the prefix/],
      ["s3://ok-bucket/p#frag", /no \? or # in the prefix/],
      // A probe: a newline said "it must start with s3://", a tab was shipped under `tab\tx/`.
      ["s3://ok-bucket/nl\nx", /no control character \(a newline, a tab\) in the prefix/],
      ["s3://ok-bucket/tab\tx", /no control character/],
      ["s3://ok-bucket/next\u0085line", /no control character/],
    ];
    for (const [value, why] of cases) {
      assert.throws(() => parseBucketUrl(value), (err: unknown) => {
        assert.ok(err instanceof BucketUrlError);
        assert.match(err.message, why);
        assert.ok(err.message.includes(JSON.stringify(value)));
        return true;
      });
    }
  });
});
