import type { DeliveryMessage } from "../../core/delivery/messages.js";
import { dataPlaneStub } from "../../durable-objects/objects.js";
import type { ClaimAnswer } from "../../durable-objects/ledger/contract.js";

interface Pending {
  msg: DeliveryMessage;
  needEvent: boolean;
  resolve: (a: ClaimAnswer) => void;
  reject: (e: unknown) => void;
}

/**
 * A consumer's claims, one RPC per owner for the claims made in the same turn (the first attempts
 * of a batch start together; later ones one by one, as connections free up). Each claim keeps the
 * delivery for this batch until `deadline`: its owner does not send it again while it waits here.
 *
 * @example
 * const claims = new Claims(env, deadline);
 * const answer = await claims.claim(msg, !msg.event); // { ok: true, event? } or { ok: false, reason }
 */
export class Claims {
  private readonly pending = new Map<string, Pending[]>();

  constructor(private readonly env: object, private readonly deadline: number) {}

  claim(msg: DeliveryMessage, needEvent: boolean): Promise<ClaimAnswer> {
    return new Promise((resolve, reject) => {
      const key = `${msg.owner.binding}:${msg.owner.name}:${msg.epoch ?? ""}`;
      const list = this.pending.get(key);
      if (list) return void list.push({ msg, needEvent, resolve, reject });
      this.pending.set(key, [{ msg, needEvent, resolve, reject }]);
      queueMicrotask(() => void this.send(key));
    });
  }

  private async send(key: string): Promise<void> {
    const list = this.pending.get(key)!;
    this.pending.delete(key);
    const first = list[0]!.msg;
    try {
      const answers = await dataPlaneStub(this.env, first.owner).claim(
        list.map((p) => ({ id: p.msg.id, gen: p.msg.gen })), first.epoch, this.deadline, list.map((p) => p.needEvent),
      );
      list.forEach((p, i) => p.resolve(answers[i] ?? { ok: false, reason: "no answer" }));
    } catch (e) {
      for (const p of list) p.reject(e);
    }
  }
}
