import type http from 'node:http';
import { describe, expect, it } from 'vitest';

import { sendJsonInSlices } from '../../src/node/admin/http-io.js';

interface SentResponse {
  status?: number;
  headers?: Record<string, string | number>;
  text: string;
  writes: number;
  ended: boolean;
}

/** Returns a stand-in for http.ServerResponse that records what is sent. */
function recordingResponse(): { response: http.ServerResponse; sent: SentResponse } {
  const sent: SentResponse = { text: '', writes: 0, ended: false };
  const response = {
    writeHead(status: number, headers: Record<string, string | number>) {
      sent.status = status;
      sent.headers = headers;
    },
    write(text: string) {
      sent.text += text;
      sent.writes += 1;
    },
    end(text?: string) {
      sent.text += text ?? '';
      sent.ended = true;
    },
  };
  return { response: response as unknown as http.ServerResponse, sent };
}

describe('sendJsonInSlices', () => {
  it('sends what JSON.stringify makes', async () => {
    const bodies: unknown[] = [[], [1], [{ text: 'é €😀', parameters: null }, 'two', undefined, 3], { error: { code: 'x' } }];
    for (const body of bodies) {
      const { response, sent } = recordingResponse();

      await sendJsonInSlices(response, 200, body);

      expect(sent.text).toBe(JSON.stringify(body));
      expect(sent.headers?.['content-length']).toBe(Buffer.byteLength(sent.text));
      expect(sent.status).toBe(200);
      expect(sent.ended).toBe(true);
    }
  });

  it('large array in a few writes', async () => {
    const body = Array.from({ length: 400 }, (_, index) => ({ rowId: index, text: `select '${'x'.repeat(60 * 1024)}'` }));
    const { response, sent } = recordingResponse();

    await sendJsonInSlices(response, 200, body);

    expect(sent.text).toBe(JSON.stringify(body));
    expect(sent.headers?.['content-length']).toBe(sent.text.length);
    expect(sent.writes).toBeLessThan(body.length);
  });

  it('lets other callbacks run while encoding', async () => {
    const body = Array.from({ length: 3000 }, (_, index) => ({ rowId: index, text: `select '${'x'.repeat(20 * 1024)}'` }));
    const { response } = recordingResponse();
    let encodingDone = false;
    let ranDuringEncoding = false;

    const sending = sendJsonInSlices(response, 200, body).then(() => {
      encodingDone = true;
    });
    setImmediate(() => {
      ranDuringEncoding = !encodingDone;
    });
    await sending;

    expect(ranDuringEncoding).toBe(true);
  });
});
