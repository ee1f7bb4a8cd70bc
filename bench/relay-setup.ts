// Starts the bare relay: a back half that ends TLS and connects to
// PostgreSQL, and a front half that takes plain TCP and connects to the back
// half over TLS. Clients keep their own TLS to PostgreSQL inside it.

import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { generateSelfSignedCertificate } from '../src/tunnel/certificates.js';
import { spawnReady } from './child-process.js';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));

export interface BareRelay {
  port: number;
  pids: number[];
}

export async function startBareRelay(dir: string, postgresPort: number, track: (stop: () => Promise<void>) => void): Promise<BareRelay> {
  const certificate = await generateSelfSignedCertificate({ commonName: 'bench relay', altNames: ['localhost', '127.0.0.1'] });
  const certFile = path.join(dir, 'relay-cert.pem');
  const keyFile = path.join(dir, 'relay-key.pem');
  await writeFile(certFile, certificate.certPem);
  await writeFile(keyFile, certificate.keyPem, { mode: 0o600 });

  const script = path.join(BENCH_DIR, 'relay-main.js');
  const back = await spawnReady<{ port: number }>('relay back half', process.execPath, [script, 'back', String(postgresPort), certFile, keyFile], {});
  track(back.stop);
  const front = await spawnReady<{ port: number }>('relay front half', process.execPath, [script, 'front', String(back.ready.port), certFile], {});
  track(front.stop);
  return { port: front.ready.port, pids: [front.pid, back.pid] };
}
