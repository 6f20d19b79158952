// Valkey-style log lines: "pid:M 26 Nov 2026 04:27:11.123 * message".
import { appendFileSync } from 'node:fs';

export const LEVELS = ['debug', 'verbose', 'notice', 'warning', 'nothing'] as const;
export type LogLevel = (typeof LEVELS)[number];
const MARK = ['.', '-', '*', '#'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export class Logger {
  level = 2;
  file = '';
  role = 'M';

  setLevel(name: string): void {
    const i = LEVELS.indexOf(name as LogLevel);
    this.level = i < 0 ? 2 : i;
  }

  log(level: number, msg: string): void {
    if (level < this.level || this.level >= 4) return;
    const d = new Date();
    const p2 = (n: number) => (n < 10 ? '0' + n : String(n));
    const ms = String(d.getMilliseconds()).padStart(3, '0');
    const ts = `${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${ms}`;
    const line = `${process.pid}:${this.role} ${ts} ${MARK[level]} ${msg}\n`;
    if (this.file === '') process.stdout.write(line);
    else {
      try {
        appendFileSync(this.file, line);
      } catch {
        process.stderr.write(line);
      }
    }
  }

  debug(msg: string): void {
    this.log(0, msg);
  }
  verbose(msg: string): void {
    this.log(1, msg);
  }
  notice(msg: string): void {
    this.log(2, msg);
  }
  warning(msg: string): void {
    this.log(3, msg);
  }
}
