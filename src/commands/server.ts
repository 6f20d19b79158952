// server command family (being filled in).
import type { HandlerMap } from './table.js';

export const commands: HandlerMap = {};
