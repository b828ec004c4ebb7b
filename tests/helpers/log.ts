// A logger that keeps what it was told, for assertions on warnings.
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export function capturingLogger(): { log: Logger; messages: () => string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const log = pino({ level: 'warn' }, stream);
  return { log, messages: () => lines.map((line) => (JSON.parse(line) as { msg: string }).msg) };
}
