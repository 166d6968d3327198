// A small authoritative DNS server on a free loopback UDP port, for the `auto_discovery: dns` tests:
// it answers A and AAAA queries (RFC 1035 wire format) for the names it is given, NXDOMAIN for
// others. The test points node's resolver at it with `dns.setServers`, as a pod's resolv.conf
// points at the cluster DNS; the client's code path (dns.resolve4/resolve6) is the real one.
import dgram from 'node:dgram';
import net from 'node:net';

const TYPE_A = 1;
const TYPE_AAAA = 28;

export class DnsServer {
  /** Queries answered so far. */
  queries = 0;
  private readonly records = new Map<string, string[]>();
  private readonly socket: dgram.Socket;

  private constructor(socket: dgram.Socket) {
    this.socket = socket;
  }

  static async start(): Promise<DnsServer> {
    const socket = dgram.createSocket('udp4');
    const server = new DnsServer(socket);
    socket.on('message', (message, peer) => server.answer(message, peer));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    return server;
  }

  /** `127.0.0.1:PORT`, for dns.setServers. */
  get address(): string {
    return `127.0.0.1:${this.socket.address().port}`;
  }

  /** Publishes these addresses (IPv4 and IPv6 mixed) for `name`; an empty list removes the name. */
  set(name: string, addresses: string[]): void {
    if (addresses.length === 0) this.records.delete(name.toLowerCase());
    else this.records.set(name.toLowerCase(), addresses);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private answer(query: Buffer, peer: dgram.RemoteInfo): void {
    if (query.length < 12 || query.readUInt16BE(4) !== 1) return; // one question, as resolvers send
    const labels: string[] = [];
    let at = 12;
    while (at < query.length && query[at] !== 0) {
      const length = query[at]!;
      labels.push(query.toString('latin1', at + 1, at + 1 + length));
      at += 1 + length;
    }
    const questionEnd = at + 5;
    if (questionEnd > query.length) return;
    const type = query.readUInt16BE(at + 1);
    const name = labels.join('.').toLowerCase();
    const known = this.records.get(name);
    const wanted = (known ?? []).filter(
      (a) => net.isIP(a) === (type === TYPE_A ? 4 : type === TYPE_AAAA ? 6 : -1),
    );
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // id
    const recursionDesired = query[2]! & 0x01;
    header[2] = 0x84 | recursionDesired; // response, authoritative
    header[3] = 0x80 | (known === undefined ? 3 : 0); // recursion available; NXDOMAIN for unknown names
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(wanted.length, 6);
    const answers = wanted.map((address) => {
      const data = type === TYPE_A ? Buffer.from(address.split('.').map(Number)) : ipv6Bytes(address);
      const record = Buffer.alloc(12);
      record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
      record.writeUInt16BE(type, 2);
      record.writeUInt16BE(1, 4); // class IN
      record.writeUInt32BE(0, 6); // TTL 0: never cached
      record.writeUInt16BE(data.length, 10);
      return Buffer.concat([record, data]);
    });
    this.queries++;
    this.socket.send(
      Buffer.concat([header, query.subarray(12, questionEnd), ...answers]),
      peer.port,
      peer.address,
    );
  }
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  const bytes = Buffer.alloc(16);
  for (const [i, group] of groups.entries()) bytes.writeUInt16BE(Number.parseInt(group, 16), i * 2);
  return bytes;
}
