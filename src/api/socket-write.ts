// Writing to a client socket with backpressure, for both APIs: when the
// socket is over its high-water mark, wait for 'drain' (or 'close'), with one
// listener pair at a time that is removed either way.
import type { Socket } from 'node:net';

/** Writes `bytes`; resolves at once when the socket has room, else once it drained or closed. */
export function writeDrained(socket: Socket, bytes: Uint8Array): Promise<void> {
  if (socket.destroyed || socket.write(bytes)) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
