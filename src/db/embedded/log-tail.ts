import { redactSecrets } from '../errors.js';

/** The last lines of server output, for error messages. */
export class LogTail {
  private lines: string[] = [];
  push(message: string): void {
    for (const line of message.split('\n')) {
      if (line.trim() === '') continue;
      this.lines.push(line);
      if (this.lines.length > 20) this.lines.shift();
    }
  }
  text(): string {
    return redactSecrets(this.lines.join('\n'));
  }
}
