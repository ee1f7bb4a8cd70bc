// Entry of one half of the bare relay, the floor of the agent → node shape:
// two Node processes with TLS between them that only pass bytes.
//
//   node dist/bench/relay-main.js front TARGET_PORT CA_FILE
//     listens on 127.0.0.1 (TCP) and opens a TLS connection to TARGET_PORT per client;
//   node dist/bench/relay-main.js back TARGET_PORT CERT_FILE KEY_FILE
//     listens on 127.0.0.1 (TLS) and opens a TCP connection to TARGET_PORT per client.
//
// Each prints one ready line with its port and stops on SIGTERM. Sockets get
// TCP_NODELAY, as the agent's and node's do.

import { readFileSync } from 'node:fs';
import net from 'node:net';
import { pipeline } from 'node:stream';
import tls from 'node:tls';

const RELAY_HOST = '127.0.0.1';

/** Same minimum as the tunnel (src/tunnel/tls.ts), so both negotiate TLS 1.3 here. */
const RELAY_TLS_MIN_VERSION = 'TLSv1.2';

function pair(client: net.Socket, upstream: net.Socket): void {
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  const destroyBoth = (): void => {
    client.destroy();
    upstream.destroy();
  };
  pipeline(client, upstream, destroyBoth);
  pipeline(upstream, client, destroyBoth);
}

function startFront(targetPort: number, caFile: string): net.Server {
  const secureContext = tls.createSecureContext({ ca: readFileSync(caFile, 'utf8'), minVersion: RELAY_TLS_MIN_VERSION });
  return net.createServer((client) => {
    const upstream = tls.connect({ host: RELAY_HOST, port: targetPort, secureContext, servername: 'localhost' });
    pair(client, upstream);
  });
}

function startBack(targetPort: number, certFile: string, keyFile: string): net.Server {
  const options = { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8'), minVersion: RELAY_TLS_MIN_VERSION } as const;
  return tls.createServer(options, (client) => {
    const upstream = net.connect({ host: RELAY_HOST, port: targetPort });
    pair(client, upstream);
  });
}

function main(): void {
  const [mode, port, ...files] = process.argv.slice(2);
  const targetPort = Number(port);
  if ((mode !== 'front' && mode !== 'back') || !Number.isInteger(targetPort)) {
    throw new Error(`received mode "${mode}" and target port "${port}"; expected front|back and a port number`);
  }

  const server = mode === 'front' ? startFront(targetPort, files[0]!) : startBack(targetPort, files[0]!, files[1]!);
  server.listen(0, RELAY_HOST, () => {
    process.stdout.write(JSON.stringify({ port: (server.address() as net.AddressInfo).port }) + '\n');
  });
  process.once('SIGTERM', () => process.exit(0));
}

try {
  main();
} catch (error) {
  process.stderr.write(`relay-main: ${(error as Error).message}\n`);
  process.exit(1);
}
