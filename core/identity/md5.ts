/**
 * MD5 of a UTF-8 string as 32 hex digits, synchronously. Only for naming: Knative shortens long
 * generated names (kmeta.ChildName) with an MD5, and reconciliation is synchronous, so WebCrypto's
 * asynchronous digest does not fit. Never use it for anything that needs a secure hash.
 *
 * @example
 * md5Hex(""); // "d41d8cd98f00b204e9800998ecf8427e"
 */
export function md5Hex(text: string): string {
  const msg = new TextEncoder().encode(text);
  const words = new Uint32Array((((msg.length + 8) >>> 6) + 1) * 16);
  for (let i = 0; i < msg.length; i++) words[i >>> 2]! |= msg[i]! << ((i % 4) * 8);
  words[msg.length >>> 2]! |= 0x80 << ((msg.length % 4) * 8);
  const bits = msg.length * 8;
  words[words.length - 2] = bits >>> 0;
  words[words.length - 1] = Math.floor(bits / 0x100000000);
  let a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476;
  for (let chunk = 0; chunk < words.length; chunk += 16) {
    let a = a0, b = b0, c = c0, d = d0;
    for (let i = 0; i < 64; i++) {
      let f: number, g: number;
      if (i < 16) { f = (b & c) | (~b & d); g = i; }
      else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
      else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
      else { f = c ^ (b | ~d); g = (7 * i) % 16; }
      const sum = (a + f + K[i]! + words[chunk + g]!) | 0;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << S[i]!) | (sum >>> (32 - S[i]!)))) | 0;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  return [a0, b0, c0, d0].map(hexLE).join("");
}

function hexLE(n: number): string {
  let s = "";
  for (let i = 0; i < 4; i++) s += ((n >>> (i * 8)) & 0xff).toString(16).padStart(2, "0");
  return s;
}

const S = [
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];
const K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 0x100000000) | 0);
