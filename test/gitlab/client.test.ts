/**
 * The GitLab client's small parts: query encoding, scrubbing, Retry-After, what is retried.
 */
import { describe, expect, it } from "vitest";
import { classify, HttpFailure, scrub } from "../../src/providers/gitlab/errors.js";
import { encodeQuery } from "../../src/providers/gitlab/http.js";
import { parseRetryAfter } from "../../src/providers/retry.js";

describe("GitLab client parts", () => {
  it("encodes queries the way Rack reads them", () => {
    expect(encodeQuery({ filter: { environment_scope: "production" } })).toBe(
      "filter[environment_scope]=production",
    );
    expect(encodeQuery({ per_page: 1, order_by: "finished_at", ref: "feature/x y", skip: undefined })).toBe(
      "per_page=1&order_by=finished_at&ref=feature%2Fx%20y",
    );
    expect(encodeQuery({ scope: ["a", "b"] })).toBe("scope[]=a&scope[]=b");
  });

  it("scrubs known secrets, credential headers and query parameters, and GitLab token shapes", () => {
    const secret = "s3cr3t-value-42";
    expect(
      scrub(
        `PRIVATE-TOKEN: ${secret}\nAuthorization: Bearer abc.def job-token=xyz private_token=${secret}&a=1`,
        [secret],
      ),
    ).toBe("PRIVATE-TOKEN: *** Authorization: *** job-token=*** private_token=***&a=1");
    expect(scrub("leaked glpat-AbCdEf0123456789xyzW and glcbt-64_aaaaaaaaaaaaaaaaa", [])).toBe(
      "leaked *** and ***",
    );
    expect(scrub("x".repeat(400), []).length).toBe(300);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    expect(parseRetryAfter("7")).toBe(7);
    expect(
      parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1)),
    ).toBe(30);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it("retries what the shared policy retries, except where repeating could do harm", () => {
    const f = (status: number, description = "", sent = true) =>
      new HttpFailure(status, "GET", "/x", description, undefined, sent);
    expect(classify(f(502), true)).toEqual({ status: 502 });
    expect(classify(f(409, "Another update to this commit status is in progress"), true)).toEqual({
      status: 409,
    });
    expect(classify(f(409, "There are multiple variables with provided parameters"), true)).toBeUndefined();
    expect(classify(f(502), false)).toBeUndefined(); // a pipeline may have been created
    expect(classify(f(0), false)).toBeUndefined(); // a timeout: it may have arrived
    expect(classify(f(0, "ECONNREFUSED", false), false)).toEqual({ status: 0 }); // it never left
    expect(classify(new Error("boom"), true)).toBeUndefined();
  });
});
