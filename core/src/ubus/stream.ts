/**
 * Turns the byte stream from ubusd's socket into messages. Reads arrive in arbitrary
 * pieces (a message split over reads, several in one), so bytes are buffered until a
 * whole frame (8 + the root blob's raw length, as libubus reads it) is there.
 *
 * The header is checked as soon as its 12 bytes are in, so a bogus length is refused
 * before anything is buffered for it. A stream that failed cannot be trusted to be in
 * step again (there are no frame markers), so after the first error the reader only
 * repeats it: the caller drops the connection, as libubus and ubusd do.
 */
import { ErrorCodes, WrtkitError, messageOf } from '../errors.js';
import { type UbusMessage, UBUS_FRAME_HEAD_LEN, decodeMessage, frameLength } from './message.js';

/** Buffer kept between messages; a larger one (after a big message) is let go when empty. */
const IDLE_BUFFER = 4096;

export class MessageReader {
  private buf = new Uint8Array(IDLE_BUFFER);
  private start = 0;
  private end = 0;
  private failure: WrtkitError | undefined;

  /** Bytes received that do not make a whole message yet. */
  get buffered(): number {
    return this.end - this.start;
  }

  /** Adds received bytes; returns the messages they complete, in order. */
  push(chunk: Uint8Array): UbusMessage[] {
    if (this.failure) throw this.failure;
    try {
      this.append(chunk);
      return this.drain();
    } catch (error) {
      this.failure =
        error instanceof WrtkitError
          ? error
          : new WrtkitError(ErrorCodes.UBUS_PROTOCOL, `ubus stream: ${messageOf(error)}`, { cause: error });
      throw this.failure;
    }
  }

  private drain(): UbusMessage[] {
    const messages: UbusMessage[] = [];
    while (this.end - this.start >= UBUS_FRAME_HEAD_LEN) {
      const length = frameLength(this.buf.subarray(this.start, this.start + UBUS_FRAME_HEAD_LEN));
      if (this.end - this.start < length) break;
      // decodeMessage copies what it keeps, so the buffer can be reused.
      messages.push(decodeMessage(this.buf.subarray(this.start, this.start + length)));
      this.start += length;
    }
    if (this.start === this.end) {
      this.start = this.end = 0;
      if (this.buf.length > IDLE_BUFFER) this.buf = new Uint8Array(IDLE_BUFFER);
    }
    return messages;
  }

  private append(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.buf.length) {
      const pending = this.end - this.start;
      if (pending + chunk.length <= this.buf.length) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        let size = this.buf.length * 2;
        while (size < pending + chunk.length) size *= 2;
        const next = new Uint8Array(size);
        next.set(this.buf.subarray(this.start, this.end));
        this.buf = next;
      }
      this.start = 0;
      this.end = pending;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }
}
