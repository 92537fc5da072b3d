/**
 * Decides what a gateway link may acknowledge. An ack means "every event up to seq is
 * stored", so it only moves forward over batches stored without a gap. The gateway sends
 * batches in seq order and, on a new link, starts again right after its last acked seq;
 * after a failed batch the ack stays put until the gateway sends that batch again.
 */
export class EventAckTracker {
  private storedUpTo: number | undefined;

  /** Record a stored batch [first..last]; returns the seq to ack, or undefined if none moves. */
  stored(first: number, last: number): number | undefined {
    if (this.storedUpTo === undefined) {
      this.storedUpTo = last;
      return last;
    }
    if (first > this.storedUpTo + 1 || last <= this.storedUpTo) return undefined;
    this.storedUpTo = last;
    return last;
  }

  /** Record a batch that could not be stored. */
  failed(first: number): void {
    if (this.storedUpTo === undefined) this.storedUpTo = first - 1;
  }
}
