/**
 * The module the pool threads load: every connection is served by `serveClient`.
 */
import { defineSession } from '@rtt/pool';
import type { ConnectionContext } from './context.ts';
import { serveClient } from './session.ts';

export default defineSession<ConnectionContext>(serveClient);
