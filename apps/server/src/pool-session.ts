/**
 * The module the pool threads load: every connection is served by `serveConnection`.
 */
import { defineSession } from '@rtt/pool';
import type { ConnectionContext } from './context.ts';
import { serveConnection } from './session.ts';

export default defineSession<ConnectionContext>(serveConnection);
