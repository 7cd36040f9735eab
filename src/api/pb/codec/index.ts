// Pure codec for Riak's Protocol Buffers API: framing, message codes,
// message bodies and limits. No sockets; the server in ../ does the I/O.
export * from './codes.js';
export * from './frame.js';
export * from './limits.js';
export * from './messages.js';
