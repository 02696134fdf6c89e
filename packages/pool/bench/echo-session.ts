import { defineSession } from '../src/session.ts';

/** The benchmark's session: answers every 8-byte request with an 8-byte reply. */
export default defineSession((socket, _context, control) => {
  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => {
    // Requests are 8 bytes; a chunk may carry several when replies pile up.
    const count = Math.max(1, Math.floor(chunk.length / 8));
    control.countRequest(count);
    socket.write(chunk);
  });
  socket.on('end', () => socket.end());
  socket.on('error', () => {});
  control.signal.addEventListener('abort', () => socket.end());
  socket.resume();
});
