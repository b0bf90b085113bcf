import { createServer, Packet, type DnsServer } from 'dns2';

/** A failure the server answers for a name instead of records; `TIMEOUT`: no answer at all. */
export type DnsFailure = 'SERVFAIL' | 'REFUSED' | 'TIMEOUT';

export interface TestDnsServer {
  /** The UDP port on 127.0.0.1. */
  port: number;
  /** `DNS_SERVERS` for a service that should ask this server. */
  address: string;
  /**
   * The TXT records of `name` (replacing any it had): one record per value; a value given
   * as an array is one record of several strings (as long records are split).
   */
  setTxt(name: string, values: (string | string[])[]): void;
  /** Answers `rcode` for every question about `name`, or nothing (`TIMEOUT`): a broken server. */
  fail(name: string, rcode: DnsFailure): void;
  /** Forgets `name`: NXDOMAIN again. */
  remove(name: string): void;
  /** Every question asked so far, as `<TYPE> <name>`. */
  questions: string[];
  close(): Promise<void>;
}

const TYPE_NAMES = new Map<number, string>(
  Object.entries(Packet.TYPE).map(([name, code]) => [code, name]),
);

/**
 * A real DNS server (dns2, UDP) on a free port of 127.0.0.1, authoritative for whatever
 * the test sets: TXT records per name; NXDOMAIN for names it does not know, NODATA (no
 * answer, no error) for other types of names it knows (or `setTxt(name, [])`), SERVFAIL,
 * REFUSED or no answer on demand.
 */
export async function startDnsServer(): Promise<TestDnsServer> {
  const txt = new Map<string, string[][]>();
  const failures = new Map<string, DnsFailure>();
  const questions: string[] = [];
  const key = (name: string) => name.toLowerCase().replace(/\.$/, '');

  const server: DnsServer = createServer({
    udp: true,
    handle(request, send) {
      const response = Packet.createResponseFromRequest(request);
      response.header.aa = 1;
      const [question] = request.questions;
      if (!question) {
        response.header.rcode = Packet.RCODE.FORMERR;
        void send(response);
        return;
      }
      const name = key(question.name);
      questions.push(`${TYPE_NAMES.get(question.type) ?? question.type} ${name}`);
      const failure = failures.get(name);
      if (failure === 'TIMEOUT') return;
      if (failure) response.header.rcode = Packet.RCODE[failure];
      else if (!txt.has(name)) response.header.rcode = Packet.RCODE.NXDOMAIN;
      else if (question.type === Packet.TYPE.TXT)
        for (const strings of txt.get(name)!)
          response.answers.push(
            Packet.createResourceFromQuestion(question, {
              type: Packet.TYPE.TXT,
              class: Packet.CLASS.IN,
              ttl: 1,
              data: strings,
            }),
          );
      void send(response);
    },
  });
  const addresses = await server.listen({ udp: { port: 0, address: '127.0.0.1' } });
  const port = addresses.udp!.port;
  return {
    port,
    address: `127.0.0.1:${port}`,
    questions,
    setTxt(name, values) {
      failures.delete(key(name));
      txt.set(
        key(name),
        values.map((value) => (Array.isArray(value) ? value : [value])),
      );
    },
    fail(name, rcode) {
      failures.set(key(name), rcode);
    },
    remove(name) {
      txt.delete(key(name));
      failures.delete(key(name));
    },
    close: async () => {
      await server.close();
    },
  };
}
