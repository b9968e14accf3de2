#!/usr/bin/env node
// Adds V8 flags to the binary Cap'n Proto config Miniflare hands workerd on stdin: reads the
// config from stdin, writes it with Config.v8Flags set to the flags given as arguments to stdout.
// Run by scripts/workerd-v8.sh (see there); `withV8Flags` is also exported for tests and tools.
//
// workerd takes V8 flags only from its config (Config.v8Flags, `@2 :List(Text)`), Miniflare and
// wrangler never set them, and Miniflare's Cap'n Proto library is bundled, not exported: so this
// edits the encoded message directly. It appends the list to the end of the root struct's segment
// (other segments are addressed by number, so nothing else moves) and points the root's third
// pointer slot at it; it touches no other byte.
import { readFileSync, writeSync } from "node:fs";
import { fileURLToPath } from "node:url";

const V8_FLAGS_SLOT = 2; // Config: services @0, sockets @1, v8Flags @2 (pointer section, in order)

/**
 * The config with its v8Flags replaced by `flags` (unchanged when `flags` is empty).
 *
 * @example
 * const edited = withV8Flags(readFileSync(0), ["--max-semi-space-size=1"]);
 */
export function withV8Flags(message, flags) {
  const buf = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  if (!flags.length) return buf;
  const segCount = buf.readUInt32LE(0) + 1;
  const headerWords = Math.ceil((4 + 4 * segCount) / 8);
  const sizes = Array.from({ length: segCount }, (_, i) => buf.readUInt32LE(4 + 4 * i));
  const segStart = (i) => 8 * (headerWords + sizes.slice(0, i).reduce((a, b) => a + b, 0));
  if (buf.length < segStart(segCount)) throw new Error("config: truncated Cap'n Proto message");

  // The root pointer, first word of segment 0: a struct pointer into segment 0 (Miniflare's
  // encoder allocates the root there; a far pointer is not expected, and refused).
  const root = buf.readBigUInt64LE(segStart(0));
  if ((root & 3n) !== 0n) throw new Error("config: the root is not a struct pointer in segment 0");
  const offset = BigInt.asIntN(30, (root >> 2n) & 0x3fffffffn);
  const dataWords = Number((root >> 32n) & 0xffffn);
  const ptrCount = Number((root >> 48n) & 0xffffn);
  if (ptrCount <= V8_FLAGS_SLOT) throw new Error("config: the root struct has no v8Flags slot");
  const slotWord = 1 + Number(offset) + dataWords + V8_FLAGS_SLOT; // word index within segment 0

  // The list: one pointer per flag, then each flag's text (NUL-terminated, padded to a word).
  const texts = flags.map((f) => Buffer.from(`${f}\0`, "utf8"));
  const textWords = texts.map((t) => Math.ceil(t.length / 8));
  const added = Buffer.alloc(8 * (flags.length + textWords.reduce((a, b) => a + b, 0)));
  let textAt = flags.length; // word index within `added`
  texts.forEach((t, i) => {
    // list pointer: type 1, offset from the end of this pointer, element size 2 (bytes), count
    const rel = BigInt(textAt - (i + 1));
    added.writeBigUInt64LE(1n | ((rel & 0x3fffffffn) << 2n) | (2n << 32n) | (BigInt(t.length) << 35n), 8 * i);
    t.copy(added, 8 * textAt);
    textAt += textWords[i];
  });
  // The slot points at the list appended right after segment 0's current end.
  const listWord = sizes[0];
  const rel = BigInt(listWord - (slotWord + 1));
  const listPtr = 1n | ((rel & 0x3fffffffn) << 2n) | (6n << 32n) | (BigInt(flags.length) << 35n);

  const out = Buffer.concat([buf.subarray(0, segStart(1)), added, buf.subarray(segStart(1), segStart(segCount))]);
  out.writeUInt32LE(sizes[0] + added.length / 8, 4);
  out.writeBigUInt64LE(listPtr, segStart(0) + 8 * slotWord);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = withV8Flags(readFileSync(0), process.argv.slice(2));
  for (let at = 0; at < out.length; ) at += writeSync(1, out, at);
}
