/**
 * Load for the pool benchmark, run as a child process so it does not share the pool's event
 * loop: `connections` clients each send an 8-byte request, wait for the reply, and repeat,
 * for `seconds`. Prints the number of replies.
 */
import net from 'node:net';

const [port = '0', connections = '50', seconds = '2'] = process.argv.slice(2);
const request = Buffer.alloc(8, 7);
let replies = 0;
let running = true;

const clients = await Promise.all(
  Array.from(
    { length: Number(connections) },
    () =>
      new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect({ port: Number(port), host: '127.0.0.1', noDelay: true }, () =>
          resolve(socket),
        );
        socket.once('error', reject);
      }),
  ),
);
for (const socket of clients) {
  let pending = 0;
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.length;
    while (pending >= 8) {
      pending -= 8;
      replies += 1;
      if (running) socket.write(request);
    }
  });
  socket.write(request);
}
await new Promise((resolve) => setTimeout(resolve, Number(seconds) * 1000));
running = false;
process.stdout.write(`${replies}\n`);
for (const socket of clients) socket.destroy();
