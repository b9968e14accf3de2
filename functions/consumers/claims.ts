import type { DeliveryMessage } from "../../core/delivery/messages.js";
import { dataPlaneStub } from "../../durable-objects/objects.js";
import type { ClaimAnswer } from "../../durable-objects/ledger/contract.js";

/** Claims asked of an owner in one RPC: the delivery about to go, and the next ones of the same owner in line. */
export const CLAIM_CHUNK = 6;

interface Entry {
  msg: DeliveryMessage;
  key: string;
  answer?: Promise<ClaimAnswer>;
}

/**
 * A consumer batch's claims. A delivery is claimed from its owner right before its attempt, in one
 * RPC with the next few of the same owner waiting for a connection (they go within about one
 * attempt's time), so a batch makes about one claim call per six deliveries instead of one each.
 * Each claim keeps its delivery for this batch until `deadline`: its owner does not send it again
 * while it waits here.
 *
 * @example
 * const claims = new Claims(env, deadline, messages);
 * const answer = await claims.claim(msg); // { ok: true, event? } or { ok: false, reason }
 */
export class Claims {
  private readonly entries: Entry[];
  private readonly byMsg = new Map<DeliveryMessage, Entry>();
  /** Calls made (for the batch's subrequest budget). */
  calls = 0;

  constructor(private readonly env: object, private readonly deadline: number, msgs: DeliveryMessage[]) {
    this.entries = msgs.map((msg) => ({ msg, key: `${msg.owner.binding}:${msg.owner.name}:${msg.epoch ?? ""}` }));
    for (const e of this.entries) this.byMsg.set(e.msg, e);
  }

  /** Whether claiming `msg` now makes a call (it was not claimed with an earlier one). */
  needsCall(msg: DeliveryMessage): boolean {
    return !this.byMsg.get(msg)?.answer;
  }

  claim(msg: DeliveryMessage): Promise<ClaimAnswer> {
    const entry = this.byMsg.get(msg);
    if (!entry) return Promise.resolve({ ok: false, reason: "not in this batch" });
    if (entry.answer) return entry.answer;
    // This one and the next unclaimed of the same owner, in the order they wait for connections.
    const chunk = [entry];
    for (let i = this.entries.indexOf(entry) + 1; i < this.entries.length && chunk.length < CLAIM_CHUNK; i++) {
      const e = this.entries[i]!;
      if (e.key === entry.key && !e.answer) chunk.push(e);
    }
    this.calls++;
    const call = dataPlaneStub(this.env, msg.owner).claim(
      chunk.map((e) => ({ id: e.msg.id, gen: e.msg.gen })), msg.epoch, this.deadline, chunk.map((e) => !e.msg.event),
    );
    chunk.forEach((e, i) => (e.answer = call.then((answers) => answers[i] ?? { ok: false, reason: "no answer" })));
    return entry.answer!;
  }

  /** A delivery that will not be attempted in this batch (carried): a claim made for it is dropped. */
  release(msg: DeliveryMessage): void {
    this.byMsg.delete(msg);
  }
}
