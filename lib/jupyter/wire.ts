// Jupyter wire protocol: message framing, headers, HMAC signing and verification.
// Reference: https://jupyter-client.readthedocs.io/en/latest/messaging.html#the-wire-protocol
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";

/** The messaging protocol version this kernel speaks. */
export const PROTOCOL_VERSION = "5.3";

const DELIMITER = Buffer.from("<IDS|MSG>");

/** A message header (also the parent_header of messages that answer or belong to it). */
export interface Header {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
}

/** A decoded message. `identities` are the ZeroMQ routing prefix (for iopub: the topic). */
export interface Message<Content = Record<string, unknown>> {
  identities: Buffer[];
  header: Header;
  parent_header: Header | Record<string, never>;
  metadata: Record<string, unknown>;
  content: Content;
  buffers: Buffer[];
}

/** Signs and verifies messages with the connection file's key and signature_scheme ("hmac-sha256"). */
export class Signer {
  private readonly algorithm: string;

  constructor(
    scheme: string,
    private readonly key: string,
  ) {
    const match = /^hmac-([a-z0-9-]+)$/.exec(scheme);
    if (!match)
      throw new Error(
        `signature_scheme: expected "hmac-<digest>" such as "hmac-sha256", got ${JSON.stringify(scheme)}`,
      );
    this.algorithm = match[1];
    createHmac(this.algorithm, "probe"); // throws for a digest Node does not know
  }

  /** Hex HMAC of header, parent_header, metadata and content; "" when the key is empty (signing disabled). */
  sign(parts: readonly Buffer[]): string {
    if (!this.key) return "";
    const hmac = createHmac(this.algorithm, this.key);
    for (const part of parts) hmac.update(part);
    return hmac.digest("hex");
  }

  /** true when `signature` is the HMAC of `parts` (always true with signing disabled). */
  verify(signature: string, parts: readonly Buffer[]): boolean {
    if (!this.key) return true;
    const want = Buffer.from(this.sign(parts));
    const got = Buffer.from(signature);
    return got.length === want.length && timingSafeEqual(got, want);
  }
}

/** Parses the frames of one received message; throws on a missing delimiter, bad JSON or a bad signature. */
export function decode(frames: readonly Buffer[], signer: Signer): Message {
  const at = frames.findIndex((f) => f.equals(DELIMITER));
  if (at < 0) throw new Error("message without the <IDS|MSG> delimiter");
  if (frames.length < at + 6)
    throw new Error(`message with ${frames.length - at - 1} frames after the delimiter, expected at least 5`);
  const signed = frames.slice(at + 2, at + 6);
  if (!signer.verify(frames[at + 1].toString(), signed)) throw new Error("message with an invalid signature");
  const [header, parent, metadata, content] = signed.map((f) => JSON.parse(f.toString("utf8")));
  return {
    identities: frames.slice(0, at),
    header,
    parent_header: parent,
    metadata,
    content,
    buffers: frames.slice(at + 6),
  };
}

/** The frames of a message, signed. */
export function encode(msg: Message<unknown>, signer: Signer): Buffer[] {
  const signed = [msg.header, msg.parent_header, msg.metadata, msg.content].map((part) =>
    Buffer.from(JSON.stringify(part)),
  );
  return [...msg.identities, DELIMITER, Buffer.from(signer.sign(signed)), ...signed, ...msg.buffers];
}

/** This kernel's side of a session: makes headers with a fresh msg_id, the session id and the date. */
export class Session {
  /** The kernel's session id (one per process). */
  readonly id = randomUUID();

  constructor(private readonly username: string) {}

  /** A new message of `msgType` answering or belonging to `parent` (null: none), routed to `identities`. */
  message<Content>(
    msgType: string,
    content: Content,
    parent: Header | null,
    identities: Buffer[] = [],
  ): Message<Content> {
    return {
      identities,
      header: {
        msg_id: randomUUID(),
        session: this.id,
        username: this.username,
        date: new Date().toISOString(),
        msg_type: msgType,
        version: PROTOCOL_VERSION,
      },
      parent_header: parent ?? {},
      metadata: {},
      content,
      buffers: [],
    };
  }
}
