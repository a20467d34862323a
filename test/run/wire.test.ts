// Wire protocol as the runner's client uses it: HMAC-SHA256 signatures, framing, verification failures.
import { describe, expect, it } from "vitest";
import { Session, Signer, decode, encode } from "../../lib/jupyter/wire";

const KEY = "0123456789abcdef";

describe("message signing", () => {
  it("matches Python's hmac.new(key, sha256) over header, parent, metadata, content", () => {
    const frames = ['{"msg_id":"m1","msg_type":"execute_request"}', "{}", "{}", '{"code":"1+1"}'].map((s) =>
      Buffer.from(s),
    );
    // Computed with /usr/bin/python3: hmac.new(b"0123456789abcdef", digestmod=hashlib.sha256), update(frame) x4.
    expect(new Signer("hmac-sha256", KEY).sign(frames)).toBe(
      "8572747e8649478f05a16615615476a0cb6fd3be35619fe48d509c544cee09a7",
    );
  });

  it("round-trips a client message and rejects tampering, a wrong key and missing frames", () => {
    const signer = new Signer("hmac-sha256", KEY);
    const msg = new Session("tester").message("execute_request", { code: "quick = true;" }, null);
    const frames = encode(msg, signer);
    expect(frames[0].toString()).toBe("<IDS|MSG>");
    const back = decode(frames, signer);
    expect(back.header).toEqual(msg.header);
    expect(back.content).toEqual({ code: "quick = true;" });

    const tampered = frames.slice();
    tampered[5] = Buffer.from('{"code":"process.exit(1)"}');
    expect(() => decode(tampered, signer)).toThrow(/signature/);
    expect(() => decode(frames, new Signer("hmac-sha256", "another key"))).toThrow(/signature/);
    expect(() => decode(frames.slice(0, 4), signer)).toThrow(/frames/);
  });

  it("keeps routing identities before the delimiter", () => {
    const signer = new Signer("hmac-sha256", KEY);
    const msg = {
      ...new Session("tester").message("status", { execution_state: "idle" }, null),
      identities: [Buffer.from("kernel.1.status")],
    };
    const back = decode(encode(msg, signer), signer);
    expect(back.identities.map(String)).toEqual(["kernel.1.status"]);
    expect(back.content).toEqual({ execution_state: "idle" });
  });
});
