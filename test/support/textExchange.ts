// Pipelines text-protocol requests on one fresh socket and parses the replies with the client's
// own TextResponseParser, for tests that pin the text encoder and parser to real servers.
import { connect } from 'node:net';
import type { TextReply } from '../../src/protocol/TextReply.js';
import { TextResponseParser } from '../../src/protocol/TextResponseParser.js';

/** Writes `requests` at once and resolves the first `count` replies (the socket is then closed). */
export function textExchange(
  target: { host: string; port: number },
  requests: Buffer,
  count: number,
  maxValueBytes?: number,
): Promise<TextReply[]> {
  return new Promise((resolve, reject) => {
    const replies: TextReply[] = [];
    const socket = connect(target);
    const timer = setTimeout(
      () => finish(new Error(`only ${replies.length} of ${count} replies in 3 s`)),
      3000,
    );
    function finish(error: Error | null): void {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(replies);
    }
    const parser = new TextResponseParser(
      {
        onReply: (reply) => {
          replies.push(reply);
          if (replies.length === count) finish(null);
        },
        onError: finish,
      },
      maxValueBytes,
    );
    socket.on('connect', () => socket.write(requests));
    socket.on('data', (chunk: Buffer) => parser.feed(chunk));
    socket.on('error', finish);
    socket.on('close', () => finish(new Error(`closed after ${replies.length} of ${count} replies`)));
  });
}
